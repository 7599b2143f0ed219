"""Crawling the Inven MapleStory boards: politeness, parsing, sinks, and an offline replay site."""
