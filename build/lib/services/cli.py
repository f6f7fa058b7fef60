"""The `bkpm` command: `bkpm token ...`, `bkpm subscribe ...` and `bkpm wilayah import FILE.csv`."""
import argparse
import json
import os
import sys

from services.common.config import settings
from services.common.errors import InvalidInput
from services.common.access import ROLES


def token(args):
    from gateway.auth import issue_token
    print(issue_token(settings().jwt_secret, args.sub, args.role, wilayah=args.wilayah,
                      ttl_seconds=int(args.hours * 3600)))


def wilayah_import(args):
    from services.common.mongo import connect
    from services.organisasi.commands import import_wilayah
    config = settings()
    client = connect(config.effective_mongo_uri)
    try:
        with open(args.file, encoding="utf-8-sig", newline="") as lines:
            report = import_wilayah(client[config.database_name("organisasi")], lines)
    except InvalidInput as exc:
        sys.exit(f"{args.file}: {exc.payload['errors']}")
    finally:
        client.close()
    if args.json:
        print(json.dumps(report, ensure_ascii=False, indent=2))
        return
    print(f"{args.file}: {report['rows']} rows, {report['added']} added, {len(report['renamed'])} renamed, "
          f"{len(report['restored'])} restored, {len(report['removed'])} no longer listed, "
          f"{report['unchanged']} unchanged, {len(report['rejected'])} rejected")
    for change in report["renamed"][:20]:
        print(f"  renamed {change['kode']}: {change['lama']} -> {change['baru']}")
    if report["removed"]:
        print(f"  no longer listed (kept, marked inactive): {', '.join(report['removed'][:50])}"
              + (" ..." if len(report["removed"]) > 50 else ""))
    for unit in report["units_on_removed"]:
        print(f"  unit {unit['nama']} ({unit['kode_wilayah']}) uses a code no longer listed")
    for rejected in report["rejected"][:50]:
        print(f"  rejected line {rejected['line']}: {rejected['reason']}")


def subscribe(args):
    if args.since and not args.token:
        raise RuntimeError("--since needs a token (--token or BKPM_TOKEN) to read the event log")
    from services.subscriber import subscribe as run
    run(args)


def outside_system(args):
    """The password comes from BKPM_OUTSIDE_PASSWORD or a prompt, never the command line."""
    from getpass import getpass
    from services.outside_systems import definitions
    password = os.environ.get("BKPM_OUTSIDE_PASSWORD") or getpass(f"password for {args.name}: ")
    try:
        print(json.dumps(definitions(args.name, password, args.vhost), indent=2))
    except ValueError as exc:
        raise RuntimeError(f"{args.name}: {exc}") from None


def asyncapi(args):
    from services.asyncapi import document
    print(json.dumps(document(), ensure_ascii=False, indent=2))


def parser():
    main_parser = argparse.ArgumentParser(prog="bkpm", description="BKPM platform tools.")
    commands = main_parser.add_subparsers(dest="command", required=True)

    token_parser = commands.add_parser("token", help="print a JWT the running gateway accepts")
    token_parser.add_argument("--role", action="append", required=True, choices=ROLES,
                              help="a role of the token (repeat for several)")
    token_parser.add_argument("--wilayah", help="area code the user is scoped to; none for national staff")
    token_parser.add_argument("--sub", default="bkpm-cli", help="the user's name (subject)")
    token_parser.add_argument("--hours", type=float, default=8, help="validity in hours (default 8)")
    token_parser.set_defaults(run=token)

    subscribe_parser = commands.add_parser(
        "subscribe", help="listen to the public feed (bkpm.publik), catching up from the event log first")
    subscribe_parser.add_argument("--queue", required=True, help="your durable queue's name")
    subscribe_parser.add_argument("--events", action="append", metavar="PATTERN",
                                  help="<service>.<entity>.<verb> pattern, e.g. 'bantuan.*' (repeat; default all)")
    subscribe_parser.add_argument("--wilayah", help="only this area and below, e.g. 31.71")
    subscribe_parser.add_argument("--since", help="first catch up on events since this ISO time, from the log")
    subscribe_parser.add_argument("--webhook", help="POST each event here instead of printing JSON lines")
    subscribe_parser.add_argument("--into-queue", metavar="QUEUE",
                                  help="put each event into this queue instead, for a consumer of your own")
    subscribe_parser.add_argument("--amqp", default=settings().amqp_uri, help="broker URL (default AMQP_URI)")
    subscribe_parser.add_argument("--api", default=f"http://127.0.0.1:{settings().gateway_port}",
                                  help="the gateway, for the catch-up")
    subscribe_parser.add_argument("--token", default=os.environ.get("BKPM_TOKEN"),
                                  help="a token for the catch-up (default BKPM_TOKEN)")
    subscribe_parser.add_argument("--prefetch", type=int, default=50)
    subscribe_parser.set_defaults(run=subscribe)

    outside_parser = commands.add_parser(
        "outside-system", help="print RabbitMQ definitions for an outside system's own read-only user")
    outside_parser.add_argument("name", help="the system's name; its queues are named NAME.<anything>")
    outside_parser.add_argument("--vhost", default="/", help="the platform's vhost (default /)")
    outside_parser.set_defaults(run=outside_system)

    asyncapi_parser = commands.add_parser("asyncapi", help="print the public feed's AsyncAPI document (JSON)")
    asyncapi_parser.set_defaults(run=asyncapi)

    wilayah_parser = commands.add_parser("wilayah", help="the area reference")
    wilayah_commands = wilayah_parser.add_subparsers(dest="wilayah_command", required=True)
    import_parser = wilayah_commands.add_parser("import", help="load an official kode,nama CSV list")
    import_parser.add_argument("file")
    import_parser.add_argument("--json", action="store_true", help="print the full report as JSON")
    import_parser.set_defaults(run=wilayah_import)
    return main_parser


def main(argv=None):
    args = parser().parse_args(argv)
    try:
        args.run(args)
    except RuntimeError as exc:
        sys.exit(str(exc))


if __name__ == "__main__":
    main()
