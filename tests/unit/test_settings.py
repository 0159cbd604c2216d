import pytest

from hubmirror.settings import SETTINGS, Settings, SettingsError, load_settings


def test_flag_beats_env_beats_file_beats_default(tmp_path):
    config = tmp_path / "c.toml"
    config.write_text('port = 1111\nmetadata_ttl = 5\nhost = "0.0.0.0"\n')
    env = {"HUBMIRROR_PORT": "2222", "HUBMIRROR_METADATA_TTL": "7"}
    s = load_settings(flags={"port": 3333}, env=env, config_file=config)
    assert (s.port, s.metadata_ttl, s.host, s.access_ttl) == (3333, 7.0, "0.0.0.0", 300.0)


def test_upstream_list_from_env_is_comma_separated():
    s = load_settings(env={"HUBMIRROR_UPSTREAM": "http://a, http://b"})
    assert s.upstream == ("http://a", "http://b")


def test_data_defaults_to_hubmirror_home(monkeypatch, tmp_path):
    monkeypatch.setenv("HUBMIRROR_HOME", str(tmp_path))
    assert load_settings(env={}).data == str(tmp_path)


def test_bad_value_names_the_setting_and_its_source():
    with pytest.raises(SettingsError, match="port.*HUBMIRROR_PORT"):
        load_settings(env={"HUBMIRROR_PORT": "eighty"})


def test_unknown_key_in_config_file_is_refused(tmp_path):
    config = tmp_path / "c.toml"
    config.write_text("prot = 1\n")
    with pytest.raises(SettingsError, match="prot"):
        load_settings(env={}, config_file=config)


def test_settings_table_and_dataclass_agree():
    assert [s.name for s in SETTINGS] == list(Settings.__dataclass_fields__)
