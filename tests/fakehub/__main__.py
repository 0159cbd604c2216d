"""Run the fake hub standalone: python -m tests.fakehub --port 9000 --cdn-port 9001"""

import argparse
import time

from tests.fakehub.hub import FakeHub


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.fakehub", description=__doc__)
    parser.add_argument("--port", type=int, default=0, help="hub port (default: a free one)")
    parser.add_argument("--cdn-port", type=int, default=0, help="CDN port (default: a free one)")
    parser.add_argument("--page-size", type=int, default=1000, help="tree entries per page")
    parser.add_argument("--no-xet", action="store_true", help="do not advertise Xet")
    args = parser.parse_args(argv)
    hub = FakeHub(page_size=args.page_size)
    hub.xet = not args.no_xet
    hub.start(port=args.port, cdn_port=args.cdn_port)
    print(f"hub: {hub.url}", flush=True)
    print(f"cdn: {hub.cdn_url}", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        hub.stop()


if __name__ == "__main__":
    main()
