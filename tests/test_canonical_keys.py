"""The articles' de-duplication keys do not move (issue 21): ``articles.url`` holds ``canonical_url(link)``, so a
change to the canonicaliser, or a library in its place, must give every stored link the key it has today, or
come with a migration that rewrites the keys and merges the duplicates.

The corpus (``tests/data/canonical_keys.json``, made by ``bench/canonical_keys.py --write``) holds every article
link of the replicas, every URL the tests quote, each in the shapes feeds give (http, www., AMP, trackers, ...)."""

from __future__ import annotations

import json
from pathlib import Path

from spiders.urls import canonical_url

CORPUS = json.loads((Path(__file__).parent / "data" / "canonical_keys.json").read_text())["keys"]


def test_the_corpus_covers_the_shapes_it_claims():
    assert len(CORPUS) > 3000 and len(set(CORPUS.values())) > 500
    links = list(CORPUS)
    for shape in ("http://", "#comments", "utm_source=", "fbclid=", "/amp/", "cdn.ampproject.org", "google.com/amp/s/"):
        assert any(shape in link for link in links), shape


def test_every_stored_link_keeps_its_key():
    moved = {link: (key, canonical_url(link)) for link, key in CORPUS.items() if canonical_url(link) != key}
    assert not moved, f"{len(moved)} links would get another key, e.g. {sorted(moved.items())[:3]}"


def test_keys_are_fixed_points():
    assert all(canonical_url(key) == key for key in set(CORPUS.values()))


def test_the_variants_of_a_replica_article_share_one_key():
    page = "https://www.wwlp.com/news/state-politics/facial-recognition-gun-law-rewrite-added-to-bond-bill/"
    variants = [link for link in CORPUS if "facial-recognition-gun-law-rewrite-added-to-bond-bill" in link
                and "b=2" not in link and "?" not in link.split("/")[-1]]
    assert len(variants) >= 8
    assert {CORPUS[v] for v in variants} == {canonical_url(page)}


def test_an_amp_viewer_on_an_amp_host_prefix_is_unwrapped_like_the_key_it_gives():
    # "amp.google.com/amp/s/..." keyed as "google.com/amp/s/...", which keyed again gave the publisher's page
    assert canonical_url("https://amp.google.com/amp/s/example.com/a") == "https://example.com/a"
