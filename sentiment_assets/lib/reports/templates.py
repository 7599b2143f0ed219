# ruff: noqa: E501 -- HTML lines are kept whole so the markup reads as the page it renders.
"""Jinja2 templates of the report and the index, kept in Python so they ship with the package.

Autoescaping is on for both: titles, keywords, jobs and URLs come from crawled posts and are
untrusted. The Content-Security-Policy forbids every fetch and script, so even markup that got
through could load nothing; fonts are CSS fallbacks the reader's system already has.
"""

from __future__ import annotations

HEAD = """<!doctype html>
<html lang="ko">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy"
      content="default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'">
<meta name="referrer" content="no-referrer">
<title>{{ title }}</title>
<style>
  body { font-family: "Noto Sans KR", "Apple SD Gothic Neo", "Malgun Gothic", "Nanum Gothic",
         "NanumGothic", system-ui, -apple-system, "Segoe UI", sans-serif;
         margin: 0 auto; max-width: 960px; padding: 24px; color: #1d2329; line-height: 1.5; }
  h1 { font-size: 1.6rem; margin-bottom: 0; }
  h2 { font-size: 1.2rem; border-bottom: 1px solid #dde1e6; padding-bottom: 4px; margin-top: 2rem; }
  .sub { color: #5b6670; margin-top: 4px; }
  .cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(150px, 1fr)); gap: 12px; }
  .card { border: 1px solid #dde1e6; border-radius: 8px; padding: 12px; }
  .card .value { font-size: 1.5rem; font-weight: 600; }
  .card .delta, .muted { color: #5b6670; font-size: 0.85rem; }
  table { border-collapse: collapse; width: 100%; font-size: 0.9rem; }
  th, td { text-align: right; padding: 4px 8px; border-bottom: 1px solid #eef0f3; }
  th:first-child, td:first-child, td.text { text-align: left; }
  table[data-table$="posts"] th, table[data-table$="posts"] td { text-align: left; }
  .bar { display: flex; height: 10px; width: 120px; border-radius: 3px; overflow: hidden; }
  .neg { background: #c0392b; } .neu { background: #95a5a6; } .pos { background: #1e8449; }
  .label-부정 { color: #c0392b; } .label-중립 { color: #5b6670; } .label-긍정 { color: #1e8449; }
  svg { width: 100%; height: auto; font-family: inherit; }
  .empty { padding: 16px; background: #f7f8fa; border-radius: 8px; }
  footer { margin-top: 3rem; color: #5b6670; font-size: 0.8rem; }
  a { color: #1f5fa8; }
</style>
</head>
"""

REPORT = (
    HEAD
    + """<body>
<h1>{{ data.job_group }} · {{ data.month }} 월간 감성 리포트</h1>
<p class="sub">Sentiment of the {{ data.job_group }} community in {{ data.month }} (KST), from the
newest model's label of each post, against {{ data.month.previous() }}.</p>

<h2>Statistics</h2>
{% if not data.current.posts %}
<p class="empty" data-empty="month">No posts from {{ data.job_group }} in {{ data.month }}
({{ data.previous.posts }} in {{ data.month.previous() }}).</p>
{% else %}
<div class="cards">
  <div class="card"><div>Posts</div>
    <div class="value" data-metric="posts">{{ data.current.posts }}</div>
    <div class="delta" data-metric="posts_change">{{ count_change(data.current.posts, data.previous.posts) }}</div></div>
  {% for label in labels %}
  <div class="card"><div class="label-{{ label }}">{{ label }}</div>
    <div class="value" data-metric="share_{{ label }}">{{ pct(data.current.share(label)) }}</div>
    <div class="delta" data-metric="share_change_{{ label }}">{{ pp_change(data.current.share(label), data.previous.share(label)) }}</div></div>
  {% endfor %}
  <div class="card"><div>Net sentiment</div>
    <div class="value" data-metric="net">{{ signed(data.current.net) }}</div>
    <div class="delta" data-metric="net_change">{{ net_change(data.current.net, data.previous.net) }}</div></div>
  <div class="card"><div>Mean confidence</div>
    <div class="value" data-metric="confidence">{{ pct(data.current.mean_confidence) }}</div></div>
</div>

<h3>Per job</h3>
<table data-table="jobs">
  <thead><tr><th>Job</th><th>Posts</th><th>vs {{ data.month.previous() }}</th><th>부정</th>
    <th>중립</th><th>긍정</th><th>Mix</th><th>Net</th><th>Net change</th></tr></thead>
  <tbody>
  {% for row in data.jobs %}
  <tr data-job="{{ row.job }}">
    <td>{{ row.job }}</td><td data-metric="posts">{{ row.current.posts }}</td>
    <td>{{ count_change(row.current.posts, row.previous.posts) }}</td>
    {% for label in labels %}<td data-metric="share_{{ label }}">{{ pct(row.current.share(label)) }}</td>{% endfor %}
    <td><div class="bar">
      <span class="neg" style="width: {{ width(row.current.share('부정')) }}%"></span>
      <span class="neu" style="width: {{ width(row.current.share('중립')) }}%"></span>
      <span class="pos" style="width: {{ width(row.current.share('긍정')) }}%"></span></div></td>
    <td data-metric="net">{{ signed(row.current.net) }}</td>
    <td>{{ net_change(row.current.net, row.previous.net) }}</td>
  </tr>
  {% endfor %}
  </tbody>
</table>
{% endif %}

<h2>Keywords</h2>
{% if data.keywords %}
<p class="muted">The {{ data.keywords | length }} nouns most {{ data.job_group }} posts mention this
month; size grows with posts, colour is the word's net sentiment over all boards that month
(grey: balanced or unknown).</p>
{{ cloud }}
<details><summary>Keyword table</summary>
<table data-table="keywords"><thead><tr><th>Keyword</th><th>Posts</th><th>Net</th></tr></thead><tbody>
{% for keyword in data.keywords %}<tr><td>{{ keyword.keyword }}</td><td>{{ keyword.posts }}</td><td>{{ signed(keyword.net) }}</td></tr>
{% endfor %}</tbody></table></details>
{% else %}
<p class="empty">No keywords for {{ data.job_group }} in {{ data.month }}.</p>
{% endif %}

<h2>Trends</h2>
{% if data.weeks %}
<p class="muted">Weekly share of each label (weeks start on Monday, KST); the weeks of
{{ data.month }} are shaded.</p>
{{ trend }}
<details><summary>Weekly figures</summary>
<table data-table="weeks"><thead><tr><th>Week</th><th>Posts</th><th>부정</th><th>중립</th><th>긍정</th><th>Net</th></tr></thead><tbody>
{% for week in data.weeks %}<tr><td>{{ week.week_start }}</td><td>{{ week.counts.posts }}</td>
{% for label in labels %}<td>{{ pct(week.counts.share(label)) }}</td>{% endfor %}<td>{{ signed(week.counts.net) }}</td></tr>
{% endfor %}</tbody></table></details>
{% else %}
<p class="empty">No weekly figures for {{ data.job_group }} up to {{ data.month }}.</p>
{% endif %}

<h2>Representative posts</h2>
<p class="muted">Per job and label, the posts the newest model is most confident about. The mart
keeps three per job and label over all time; those posted in other months are folded away.</p>
{% macro post_table(posts, kind) %}
<table data-table="{{ kind }}">
  <thead><tr><th>Job</th><th>Label</th><th>Title</th><th>Confidence</th><th>Posted (UTC)</th></tr></thead>
  <tbody>
  {% for post in posts %}
  <tr>
    <td>{{ post.job }}</td><td class="label-{{ post.label }}">{{ post.label }}</td>
    <td class="text">{% if safe_link(post.url) %}<a href="{{ post.url }}" rel="noopener noreferrer nofollow">{{ post.title }}</a>{% else %}{{ post.title }}{% endif %}</td>
    <td>{{ pct(post.confidence) }}</td>
    <td>{{ post.posted_at.strftime("%Y-%m-%d %H:%M") if post.posted_at else "" }}</td>
  </tr>
  {% endfor %}
  </tbody>
</table>
{% endmacro %}
{% set in_month = data.posts | selectattr("in_month") | list %}
{% set other = data.posts | rejectattr("in_month") | list %}
{% if in_month %}{{ post_table(in_month, "posts") }}
{% else %}<p class="empty">None of {{ data.job_group }}'s representative posts was posted in {{ data.month }}.</p>
{% endif %}
{% if other %}
<details><summary>From other months ({{ other | length }})</summary>
{{ post_table(other, "other-posts") }}
</details>
{% endif %}

<footer>Generated {{ generated_at }} from the marts export
{%- if info.lake_snapshot_id is not none %} of lakehouse snapshot {{ info.lake_snapshot_id }}{% endif %}
{%- if info.exported_at %} (exported {{ info.exported_at.strftime("%Y-%m-%d %H:%M %Z") }}){% endif %}.
<a href="../index.html">All reports</a></footer>
</body>
</html>
"""
)

INDEX = (
    HEAD
    + """<body>
<h1>월간 감성 리포트</h1>
<p class="sub">Monthly sentiment reports per job group, from the marts export
{%- if info.lake_snapshot_id is not none %} of lakehouse snapshot {{ info.lake_snapshot_id }}{% endif %}.</p>
{% if not months %}
<p class="empty" data-empty="export">The marts export holds no posts yet: no report to list.</p>
{% endif %}
{% for month in months %}
<h2>{{ month.name }}</h2>
<table data-month="{{ month.name }}">
  <thead><tr><th>Job group</th><th>Posts</th><th>Net sentiment</th></tr></thead>
  <tbody>
  {% for row in month.rows %}
  <tr><td>{% if row.href %}<a href="{{ row.href }}">{{ row.job_group }}</a>{% else %}{{ row.job_group }}{% endif %}</td>
    <td>{{ row.posts }}</td><td>{{ signed(row.net) }}</td></tr>
  {% endfor %}
  </tbody>
</table>
{% endfor %}
<footer>Generated {{ generated_at }}.</footer>
</body>
</html>
"""
)
