"""robots.txt as RFC 9309 reads it: `*` and `$` wildcards, longest match wins, allow wins ties.

`urllib.robotparser` (before Python 3.15) ignores wildcards and applies the first matching rule,
which mis-reads exactly the kind of file Korean portals publish (`Disallow: /*?*iskin=`), so we
keep our own small matcher.
"""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass, field
from urllib.parse import quote, unquote, urlsplit

# Characters left as they are when paths and patterns are brought to one percent-encoded form.
_SAFE = "/?=&;:@!$'()*+,-._~%"


def _canonical(text: str) -> str:
    """Percent-encode non-ASCII (e.g. Korean categories) the same way for paths and patterns."""
    return quote(unquote(text), safe=_SAFE)


@dataclass(frozen=True)
class Rule:
    """One `Allow` or `Disallow` line."""

    allow: bool
    pattern: str
    regex: re.Pattern[str]

    @classmethod
    def parse(cls, allow: bool, pattern: str) -> Rule:
        """Compile a path pattern: `*` matches any run of characters, a final `$` anchors."""
        canonical = _canonical(pattern)
        anchored = canonical.endswith("$")
        body = canonical[:-1] if anchored else canonical
        # `$` anywhere but the end has no special meaning in RFC 9309; it is kept literally.
        regex = ".*".join(re.escape(part) for part in body.split("*"))
        return cls(allow, pattern, re.compile(regex + (r"\Z" if anchored else "")))

    @property
    def length(self) -> int:
        """Specificity used to pick between matching rules: the pattern's length in octets."""
        return len(_canonical(self.pattern).encode())


@dataclass
class _Group:
    agents: list[str] = field(default_factory=list)
    rules: list[Rule] = field(default_factory=list)
    crawl_delay: float | None = None


@dataclass(frozen=True)
class RobotsRules:
    """The rules that apply to one user agent on one host."""

    rules: tuple[Rule, ...] = ()
    crawl_delay: float | None = None
    unreachable: str | None = None
    """Why robots.txt could not be read; set means everything is disallowed (RFC 9309 2.3.1.4)."""

    @classmethod
    def allow_all(cls) -> RobotsRules:
        """No robots.txt (a 4xx answer): everything may be crawled."""
        return cls()

    @classmethod
    def disallow_all(cls, reason: str) -> RobotsRules:
        """robots.txt unreachable (5xx, network failure): nothing may be crawled."""
        return cls(unreachable=reason)

    @classmethod
    def parse(cls, text: str, user_agent: str) -> RobotsRules:
        """Select the groups for `user_agent` (or `*`) from a robots.txt body and merge them.

        Args:
            text: the robots.txt body.
            user_agent: the crawler's product token, e.g. `maple-sentiment`; matched
                case-insensitively against each group's `User-agent` values.
        """
        groups: list[_Group] = []
        current: _Group | None = None
        in_rules = False
        for raw in text.splitlines():
            line = raw.split("#", 1)[0].strip()
            if ":" not in line:
                continue
            name, _, value = line.partition(":")
            name, value = name.strip().lower(), value.strip()
            if name == "user-agent":
                if current is None or in_rules:
                    current = _Group()
                    groups.append(current)
                    in_rules = False
                current.agents.append(value.lower())
            elif name in ("allow", "disallow") and current is not None:
                in_rules = True
                if value:  # an empty Disallow means "nothing disallowed": no rule at all
                    current.rules.append(Rule.parse(name == "allow", value))
            elif name == "crawl-delay" and current is not None:
                in_rules = True
                with contextlib.suppress(ValueError):  # a malformed delay is no delay
                    current.crawl_delay = float(value)
        token = user_agent.split("/", 1)[0].strip().lower()
        chosen = [g for g in groups if any(a != "*" and a == token for a in g.agents)]
        if not chosen:
            chosen = [g for g in groups if "*" in g.agents]
        rules = tuple(rule for g in chosen for rule in g.rules)
        delays = [g.crawl_delay for g in chosen if g.crawl_delay is not None]
        return cls(rules=rules, crawl_delay=max(delays) if delays else None)

    def allowed(self, url: str) -> bool:
        """Whether `url` (absolute, or a path with query) may be fetched."""
        if self.unreachable is not None:
            return False
        parts = urlsplit(url)
        target = _canonical((parts.path or "/") + (f"?{parts.query}" if parts.query else ""))
        if target == "/robots.txt":
            return True
        best: Rule | None = None
        for rule in self.rules:
            if not rule.regex.match(target):
                continue
            if (
                best is None
                or rule.length > best.length
                or (rule.length == best.length and rule.allow and not best.allow)
            ):
                best = rule
        return best is None or best.allow
