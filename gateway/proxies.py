"""Who the client is behind reverse proxies: X-Forwarded-For is believed only as far as the
addresses in it were written by the proxies the deployment names (TRUSTED_PROXIES), never by
hop count alone, so that a client cannot pick the address its rate limits are counted under."""
import ipaddress


def client_address(peer, forwarded_for, trusted_networks):
    """The client's address: the connection's `peer`, unless that is a trusted proxy, in which case
    the address the proxy appended to X-Forwarded-For, and so on leftwards while each address is a
    trusted proxy's. What stands left of the first untrusted address was written by the client
    itself and counts for nothing; so does an entry that is not an address."""
    client = peer
    for hop in reversed(forwarded_for.split(",")):
        if not _among(client, trusted_networks):
            break
        try:
            client = str(ipaddress.ip_address(hop.strip()))
        except ValueError:
            break
    return client


def _among(address, networks):
    try:
        ip = ipaddress.ip_address(address or "")
    except ValueError:  # a Unix socket's peer, or none
        return False
    return any(ip in network for network in networks)


class TrustedProxies:
    """WSGI middleware: REMOTE_ADDR becomes the client's address (client_address) for everything
    behind it, rate limits included."""

    def __init__(self, app, trusted_networks):
        self.app = app
        self.trusted_networks = tuple(trusted_networks)

    def __call__(self, environ, start_response):
        environ["REMOTE_ADDR"] = client_address(environ.get("REMOTE_ADDR"), environ.get("HTTP_X_FORWARDED_FOR", ""),
                                                self.trusted_networks)
        return self.app(environ, start_response)
