"""The command-line options of settings come from the settings table, flag, help and default."""

import click
from click.testing import CliRunner

from hubmirror.cli import main
from hubmirror.cli.common import setting_options
from hubmirror.settings import SETTINGS, Settings, load_settings, parse_size

ROWS = {s.name: s for s in SETTINGS}


def _sample(setting) -> str:
    """A value other than the default, as a user would type it."""
    default = setting.resolve_default()
    if isinstance(default, bool):
        return "false" if default else "true"
    if setting.choices:
        return next(c for c in setting.choices if c != default)
    if setting.cast is parse_size:
        return "3G"
    if isinstance(default, tuple):
        return "10.0.0.0/8"  # an upstream, a glob, a host and a network alike
    if isinstance(default, float):
        return "2.5"
    if isinstance(default, int):
        return "7"
    return "http://sample.example"


def _every_setting_command(made: list[Settings] | None = None) -> click.Command:
    @click.command()
    @setting_options(*ROWS)
    def command(**flags) -> None:
        settings = load_settings(flags=flags, env={})
        if made is not None:
            made.append(settings)
        click.echo(f"offline={settings.offline}")

    return command


def _args(setting) -> list[str]:
    """The flag that sets a non-default value: the other side of a boolean, else FLAG VALUE."""
    if isinstance(setting.resolve_default(), bool):
        option = next(p for p in _every_setting_command().params if p.name == setting.name)
        return [option.secondary_opts[0] if setting.resolve_default() else option.opts[0]]
    return [setting.flag, _sample(setting)]


def test_every_setting_given_as_its_flag_equals_the_same_value_from_its_variable():
    runner = CliRunner()
    for setting in SETTINGS:
        args = _args(setting)
        made: list[Settings] = []
        result = runner.invoke(_every_setting_command(made), args, catch_exceptions=False)
        assert result.exit_code == 0, (args, result.output)
        from_flag = getattr(made[0], setting.name)
        from_env = getattr(load_settings(env={setting.env_var: _sample(setting)}), setting.name)
        assert from_flag == from_env != setting.resolve_default(), args


def test_a_flag_not_given_leaves_the_environment_and_file_to_decide(tmp_path):
    config = tmp_path / "c.toml"
    config.write_text("port = 1111\noffline = true\n")
    seen = {}

    @click.command()
    @setting_options("port", "host", "offline", "upstream")
    def command(**flags) -> None:
        seen.update(flags)

    CliRunner().invoke(command, [], catch_exceptions=False)
    settings = load_settings(flags=seen, env={"HUBMIRROR_HOST": "0.0.0.0"}, config_file=config)
    assert (settings.port, settings.host, settings.offline) == (1111, "0.0.0.0", True)
    assert settings.upstream == ("https://huggingface.co",)


def test_offline_keeps_its_online_off_flag():
    result = CliRunner().invoke(_every_setting_command(), ["--offline", "--online"])
    assert "offline=False" in result.output


def test_every_command_shows_a_settings_help_and_default_from_the_table():
    shown = {}
    commands = [main]
    while commands:
        command = commands.pop()
        commands += getattr(command, "commands", {}).values()
        for param in command.params:
            row = ROWS.get(param.name)
            if row is None or not param.help.startswith(row.help):
                continue  # `cache prune --max-size` is a size of its own, not the setting
            default = row.shown_default()
            if isinstance(row.resolve_default(), bool):
                default = (param.opts if row.resolve_default() else param.secondary_opts)[0][2:]
            assert param.help == f"{row.help}  [default: {default}]", param.name
            assert param.opts[0] == row.flag, param.name
            shown[param.name] = default
    assert shown == {
        "host": "127.0.0.1",
        "port": "8080",
        "workers": "1",
        "metadata_ttl": "600",
        "public_url": "from each request (Host, X-Forwarded-Proto/Host)",
        "access_mode": "open",
        "data": "$HUBMIRROR_HOME, else ~/.cache/hubmirror",
        "upstream": "https://huggingface.co",
        "offline": "online",
        "index": "DATA/index.sqlite",
        "store": "DATA/blobs",
    }
