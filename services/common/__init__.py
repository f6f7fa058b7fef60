"""What the services share. Each module's docstring says whether it is framework-free core
(domain rules, use cases, the gateway and tools may import it) or an adapter to a framework
(Nameko, MongoDB, RabbitMQ: imported by entrypoints, repositories and other adapters only);
tests/unit/test_layers.py holds the line."""
