"""The `bkpm` command: `bkpm token ...`, `bkpm subscribe ...`, `bkpm wilayah import FILE.csv`,
`bkpm akun buat ...`, `bkpm dead-letters list|replay QUEUE` and the deployment's helpers."""
import argparse
import json
import os
import sys

from services.common.config import SERVICES, settings
from services.common.errors import InvalidInput
from services.common.access import ROLES


def token(args):
    """An access token signed with the platform's key, for operators and automation. Each one
    made is logged on stderr as a JSON line (who for, which roles, where, by which user of this
    machine; never the token), stdout carrying only the token for `TOKEN=$(bkpm token ...)`."""
    import getpass
    from datetime import datetime, timezone
    key = settings().signing_key()
    issued = key.issue(args.sub, args.role, wilayah=args.wilayah, ttl_seconds=int(args.minutes * 60))
    print(json.dumps({"time": datetime.now(timezone.utc).isoformat(), "level": "WARNING", "logger": "bkpm.token",
                      "message": "issued an access token", "sub": args.sub, "roles": args.role,
                      "wilayah": args.wilayah, "minutes": args.minutes, "os_user": getpass.getuser(),
                      "kid": key.kid}), file=sys.stderr)
    print(issued)


def akses_verify(args):
    """Check each service's access log chain: exit 1 naming the first place that was changed,
    removed or slipped in (docs/security.md, "The access log")."""
    from services.common.access_log import SERVICES_WITH_LOG, first_break
    from services.common.mongo import Repository, connect
    config = settings()
    client = connect(config.effective_mongo_uri)
    try:
        broken = {name: first_break(Repository(client[config.database_name(name)], None).access_log())
                  for name in SERVICES_WITH_LOG}
    finally:
        client.close()
    for name, place in broken.items():
        print(f"{name}: {'utuh' if place is None else f'rusak pada urutan {place}'}")
    if any(place is not None for place in broken.values()):
        sys.exit(1)


def wilayah_import(args):
    from services.common.mongo import connect
    from services.organisasi.commands import Progress, import_wilayah
    config = settings()
    client = connect(config.effective_mongo_uri)
    try:
        with open(args.file, encoding="utf-8-sig", newline="") as lines:
            report = import_wilayah(client[config.database_name("organisasi")], lines, Progress(sys.stderr))
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


def akun_buat(args):
    """An account straight in akun's database (the first admin, before anyone can log in). The
    password comes from stdin with --password-stdin, never the command line; without it a
    one-time password is printed, to be changed at the first login."""
    from services.akun.commands import create_account
    from services.common.errors import Conflict
    from services.common.mongo import connect
    password = sys.stdin.readline().rstrip("\r\n") if args.password_stdin else None
    data = {"username": args.username, "role": args.role, "nama": args.nama, "email": args.email}
    if args.wilayah:
        data["wilayah"] = args.wilayah
    config = settings()
    client = connect(config.effective_mongo_uri)
    try:
        account, made_up = create_account(client, client[config.database_name("akun")], data, password)
    except InvalidInput as exc:
        sys.exit(f"akun {args.username}: {exc.payload['errors']}")
    except Conflict as exc:
        sys.exit(f"akun {args.username}: {exc.payload['detail']}")
    finally:
        client.close()
    print(f"akun {account['username']} ({account['role']}, {account['wilayah'] or 'nasional'}) dibuat: {account['id']}")
    if made_up:
        print(f"kata sandi sekali pakai (ganti saat masuk pertama): {made_up}")


def subscribe(args):
    if args.since and not args.token:
        raise RuntimeError("--since needs a token (--token or BKPM_TOKEN) to read the event log")
    from services.subscriber import subscribe as run
    run(args)


def outside_system(args):
    """The password comes from BKPM_OUTSIDE_PASSWORD or a prompt, never the command line."""
    from getpass import getpass
    from services.broker_definitions import definitions
    password = os.environ.get("BKPM_OUTSIDE_PASSWORD") or getpass(f"password for {args.name}: ")
    try:
        print(json.dumps(definitions(args.name, password, args.vhost), indent=2))
    except ValueError as exc:
        raise RuntimeError(f"{args.name}: {exc}") from None


def rabbitmq_definitions(args):
    """From the environment (.env in docker compose): RABBITMQ_VHOST, RABBITMQ_USER,
    RABBITMQ_PASSWORD, and OUTSIDE_SYSTEMS as `name:password,name:password`."""
    from services.broker_definitions import platform
    outside = [entry.split(":", 1) for entry in os.environ.get("OUTSIDE_SYSTEMS", "").split(",") if entry.strip()]
    if not os.environ.get("RABBITMQ_PASSWORD") or any(len(pair) != 2 for pair in outside):
        raise RuntimeError("RABBITMQ_PASSWORD is needed, and OUTSIDE_SYSTEMS as name:password,name:password")
    try:
        document = platform(os.environ.get("RABBITMQ_VHOST", "bkpm"), os.environ.get("RABBITMQ_USER", "bkpm"),
                            os.environ["RABBITMQ_PASSWORD"], [(name.strip(), password) for name, password in outside])
    except ValueError as exc:
        raise RuntimeError(str(exc)) from None
    text = json.dumps(document, indent=2)
    if args.out:
        with open(args.out, "w") as out:
            out.write(text)
    else:
        print(text)


def health(args):
    """Exit 0 when the role answers: the gateway's /health, or a service's RPC ping."""
    config = settings()
    try:
        if args.role == "gateway":
            import requests
            requests.get(f"http://127.0.0.1:{config.gateway_port}/health", timeout=3).raise_for_status()
        else:
            from gateway.rpc import RpcClient
            RpcClient(config.amqp_uri, 3).call(args.role, "ping")
    except Exception as exc:
        raise RuntimeError(f"{args.role} does not answer: {type(exc).__name__}") from None


def asyncapi(args):
    from services.asyncapi import document
    print(json.dumps(document(), ensure_ascii=False, indent=2))


def dead_letters(args):
    from pika.exceptions import ChannelClosedByBroker
    from services.common.deadletters import list_dead_letters, replay_dead_letters
    try:
        if args.dead_letters_command == "list":
            for letter in list_dead_letters(args.amqp, args.queue, args.limit):
                print(json.dumps(letter, ensure_ascii=False))
        else:
            moved = replay_dead_letters(args.amqp, args.queue, args.limit)
            print(f"{moved} dead letters back on {args.queue}", file=sys.stderr)
    except ChannelClosedByBroker as exc:  # the queue (or its .dlq) is not there
        sys.exit(f"{args.queue}: {exc.reply_text}")


def token_minutes(text):
    from services.common.tokens import MAX_TTL_SECONDS
    minutes = float(text)
    if not 0 < minutes * 60 <= MAX_TTL_SECONDS:
        raise argparse.ArgumentTypeError(f"an access token lives at most {MAX_TTL_SECONDS // 60} minutes")
    return minutes


def parser():
    main_parser = argparse.ArgumentParser(prog="bkpm", description="BKPM platform tools.")
    commands = main_parser.add_subparsers(dest="command", required=True)

    token_parser = commands.add_parser("token", help="print an access token the running platform accepts")
    token_parser.add_argument("--role", action="append", required=True, choices=ROLES,
                              help="a role of the token (repeat for several)")
    token_parser.add_argument("--wilayah", help="area code the user is scoped to; none for national staff")
    token_parser.add_argument("--sub", default="bkpm-cli", help="the user's name (subject)")
    token_parser.add_argument("--minutes", type=token_minutes, default=15,
                              help="validity in minutes (at most 15, the default)")
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

    definitions_parser = commands.add_parser(
        "rabbitmq-definitions", help="print (or --out FILE) the broker's definitions, from the environment")
    definitions_parser.add_argument("--out", help="write here instead of printing")
    definitions_parser.set_defaults(run=rabbitmq_definitions)

    health_parser = commands.add_parser("health", help="exit 0 when a role answers (container healthchecks)")
    health_parser.add_argument("role", choices=("gateway", *SERVICES))
    health_parser.set_defaults(run=health)

    asyncapi_parser = commands.add_parser("asyncapi", help="print the public feed's AsyncAPI document (JSON)")
    asyncapi_parser.set_defaults(run=asyncapi)

    letters_parser = commands.add_parser(
        "dead-letters", help="what an event handler's QUEUE.dlq holds; put it back on QUEUE once mended")
    letters_commands = letters_parser.add_subparsers(dest="dead_letters_command", required=True)
    for name, help_text in (("list", "print each dead letter as a JSON line (why, when, which event); none moves"),
                            ("replay", "move them back to QUEUE, where the handler tries each afresh")):
        letters_command = letters_commands.add_parser(name, help=help_text)
        letters_command.add_argument("queue", metavar="QUEUE", help="the handler's queue, without .dlq")
        letters_command.add_argument("--limit", type=int, default=1000, help="at most this many (default 1000)")
        letters_command.add_argument("--amqp", default=settings().amqp_uri, help="broker URL (default AMQP_URI)")
        letters_command.set_defaults(run=dead_letters)

    akun_parser = commands.add_parser("akun", help="accounts of the organisation's people")
    akun_commands = akun_parser.add_subparsers(dest="akun_command", required=True)
    buat_parser = akun_commands.add_parser("buat", help="open an account (the first admin) in akun's database")
    buat_parser.add_argument("--username", required=True)
    buat_parser.add_argument("--role", required=True, choices=ROLES)
    buat_parser.add_argument("--wilayah", help="area code the account is scoped to; none for national")
    buat_parser.add_argument("--nama", required=True, help="the person's name")
    buat_parser.add_argument("--email", required=True)
    buat_parser.add_argument("--password-stdin", action="store_true",
                             help="read the password from stdin; without it a one-time password is printed")
    buat_parser.set_defaults(run=akun_buat)

    akses_parser = commands.add_parser("akses", help="the access log of personal data")
    akses_commands = akses_parser.add_subparsers(dest="akses_command", required=True)
    akses_commands.add_parser("verify", help="check that no entry was changed, removed or slipped in "
                                             "(exit 1 if one was)").set_defaults(run=akses_verify)

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
