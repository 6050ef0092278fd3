import time
from datetime import time as clock_time, timedelta
from pathlib import Path

import pytest

from tracker.application import Application
from tracker.config import ConfigError, load_config, parse_config

ROOT = Path(__file__).resolve().parent.parent


def test_the_shipped_feeds_yaml_loads():
    config, _ = load_config(ROOT / "feeds.yaml")
    ids = [b.canonical for b in config.tracked_bill_ids()]
    assert "ma/192/H135" in ids and "ma/192/S47" in ids


def test_defaults():
    c = parse_config("")
    assert c.timezone == "America/New_York"
    assert c.sources.malegislature.base_url == "https://malegislature.gov"
    assert c.sources.malegislature.mode == "api"
    assert c.sources.malegislature.delay_s == 1.0
    assert c.schedule.crawl == timedelta(hours=6) and c.digests.staff.at == clock_time(7, 0)


def test_unknown_key_names_file_line_and_suggests():
    text = "timezone: America/New_York\nsources:\n  malegislature:\n    sesion: 192\n"
    with pytest.raises(ConfigError) as exc:
        parse_config(text, "conf/feeds.yaml")
    msg = str(exc.value)
    assert msg.startswith("conf/feeds.yaml:4:")
    assert "sources.malegislature.sesion" in msg and "did you mean 'session'" in msg


def test_bad_bill_id_points_at_its_line():
    text = "bills:\n  - id: H.135\n  - id: Q.1\n"
    with pytest.raises(ConfigError) as exc:
        parse_config(text)
    assert "feeds.yaml:3:" in str(exc.value) and "bills.1.id" in str(exc.value)


def test_duplicate_bill_is_refused():
    with pytest.raises(ConfigError, match="listed twice"):
        parse_config("sources: {malegislature: {session: 192}}\nbills: [{id: H.135}, {id: 192/H135}]\n")


@pytest.mark.parametrize(
    "text, fragment",
    [
        ("timezone: Mars/Olympus\n", "unknown time zone"),
        ("sources: {malegislature: {mode: ftp}}\n", "sources.malegislature.mode"),
        ("sources: {malegislature: {base_url: malegislature.gov}}\n", "http://"),
        ("schedule: {crawl: soon}\n", "not a duration"),
        ("feeds: [{name: X}]\n", "exactly one of url or google_news"),
        ("bills: {id: H135}\n", "bills"),
        ("- a\n- b\n", "top level must be a mapping"),
        ("bills: [\n", "not valid YAML"),
    ],
)
def test_invalid_values_are_explained(text, fragment):
    with pytest.raises(ConfigError) as exc:
        parse_config(text)
    assert fragment in str(exc.value)


def test_missing_file(tmp_path):
    with pytest.raises(ConfigError, match="no such file"):
        load_config(tmp_path / "nope.yaml")


def test_config_path_from_environment(tmp_path, monkeypatch):
    p = tmp_path / "x.yaml"
    p.write_text("bills: [{id: 193/H1728}]\n")
    monkeypatch.setenv("TRACKER_CONFIG", str(p))
    app = Application.from_environment()
    assert app.config_path == p and app.config.tracked_bill_ids()[0].canonical == "ma/193/H1728"


@pytest.mark.parametrize("text, expected", [
    ("schedule:\n  dispatch: 5 minutes\n", "feeds.yaml:2: schedule.dispatch: '5 minutes' is not a duration"),
    ("schedule:\n  crawl: 6h\n  retention: '61 3 * * *'\n", "feeds.yaml:3: schedule.retention: '61 3 * * *' is not a cron"),
    ("timezone: America/Bostn\n", "feeds.yaml:1: timezone: unknown time zone 'America/Bostn'"),
    ("digests:\n  staff:\n    at: '7am'\n", "feeds.yaml:3: digests.staff.at: '7am' is not a time of day"),
    ("digests:\n  supporters:\n    weekly_day: mon\n", "feeds.yaml:3: digests.supporters.weekly_day"),
    ("mail:\n  messages_per_second: 0\n", "feeds.yaml:2: mail.messages_per_second"),
    ("schedule:\n  check: 0s\n", "longer than zero"),
])
def test_bad_schedules_and_digest_settings_are_refused_with_line_and_key(text, expected):
    with pytest.raises(ConfigError) as exc:
        parse_config(text, "feeds.yaml")
    assert expected in str(exc.value)


def test_tracker_run_refuses_a_bad_config_at_start(tmp_path, monkeypatch):
    from click.testing import CliRunner

    from tracker.cli import main

    monkeypatch.chdir(tmp_path)
    (tmp_path / "feeds.yaml").write_text("schedule:\n  retention: every night\n")
    result = CliRunner().invoke(main, ["run", "--once"])
    assert result.exit_code == 2 and "feeds.yaml:2: schedule.retention" in result.output


# ---- found by fuzzing (tests/test_fuzz.py): these escaped parse_config as RecursionError or
# OverflowError (a traceback instead of "FILE:LINE: reason"), or walked every alias of an alias.

@pytest.mark.parametrize("text", ["bills: &a [*a]\n", "a: " + "[" * 5000 + "]" * 5000 + "\n",
                                  "x: &x {y: *x}\n"])
def test_self_referring_or_deeply_nested_yaml_is_a_config_error(text):
    with pytest.raises(ConfigError, match=r"^cfg\.yaml"):
        parse_config(text, "cfg.yaml")


@pytest.mark.parametrize("key", ["crawl", "poll", "keep_snapshots"])
def test_a_duration_too_long_for_a_timedelta_is_a_config_error(key):
    with pytest.raises(ConfigError, match=rf"^cfg\.yaml:2: schedule\.{key}: .*too long a duration"):
        parse_config(f"schedule:\n  {key}: 99999999999999999999d\n", "cfg.yaml")


def test_aliases_of_aliases_are_reported_quickly():
    lines = ["a: &l0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * 10) + "]" for i in range(1, 8)]  # 10**8 leaves
    started = time.monotonic()
    with pytest.raises(ConfigError, match="unknown key 'a'"):
        parse_config("\n".join(lines) + "\n", "cfg.yaml")
    assert time.monotonic() - started < 5


def test_a_yaml_error_is_one_line():
    with pytest.raises(ConfigError) as err:
        parse_config("a: \x00\n", "cfg.yaml")
    assert "\n" not in str(err.value) and str(err.value).startswith("cfg.yaml")
