"""The mariadb/mysql command line client as used by the followcdc scripts:
the same connection options and the same client argv everywhere."""


def add_mysql_args(g):
    """Connection options on argparse parser or group g."""
    g.add_argument("--socket", help="Unix socket of the server")
    g.add_argument("--host", default="127.0.0.1")
    g.add_argument("--port", type=int, default=3306)
    g.add_argument("--user", default="root")
    g.add_argument("--password", default=None,
                   help="password (better: the MYSQL_PWD environment "
                        "variable)")
    g.add_argument("--db", default="followcdc")
    g.add_argument("--mariadb", default="mariadb",
                   help="client program (mariadb or mysql)")


def client_argv(args, *options):
    """argv of a batch-mode client (-N -B, utf8mb4) connected as args say,
    with extra client options before the database name."""
    argv = [args.mariadb, "--no-defaults", "-N", "-B"]
    argv += list(options)
    argv.append("--default-character-set=utf8mb4")
    if args.socket:
        argv.append("--socket=" + args.socket)
    else:
        argv += ["--host=" + args.host, "--port=%d" % args.port,
                 "--protocol=TCP"]
    argv.append("--user=" + args.user)
    if args.password is not None:
        argv.append("--password=" + args.password)
    argv.append(args.db)
    return argv
