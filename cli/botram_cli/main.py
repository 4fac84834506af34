"""The `botram` command line."""

import typer

from botram_cli import asyncapi_cmd, demo, nats_keys, schemas_cmd, signin_sheet, tokens, up
from botram_cli.simulate.command import simulate

app = typer.Typer(
    help="Botram: run the system locally and manage its contracts.", no_args_is_help=True
)
app.command("up")(up.up)
app.command("schemas")(schemas_cmd.schemas)
app.command("asyncapi")(asyncapi_cmd.asyncapi)
app.command("simulate")(simulate)
app.command("demo")(demo.demo)
app.command("token")(tokens.token)
app.command("signin-sheet")(signin_sheet.signin_sheet)
app.command("nats-keys")(nats_keys.nats_keys)

if __name__ == "__main__":
    app()
