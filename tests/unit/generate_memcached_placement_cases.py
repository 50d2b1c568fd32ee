"""Prints the expected values in memcached_placement_test.cpp, computed by pymemcache itself.

Run with the interpreter that has cachekit-py's memcached extra (pymemcache 4.0.0):
    /tmp/ckvenv/bin/pip install 'pymemcache>=4.0.0'
    /tmp/ckvenv/bin/python tests/unit/generate_memcached_placement_cases.py

cachekit-py's MemcachedBackend builds pymemcache's HashClient from ("host", port) tuples, so the
node names are "host:port"; it hashes the wire key (key_prefix + key) as a str.
"""

from pymemcache.client.hash import HashClient
from pymemcache.client.murmur3 import murmur3_32
from pymemcache.client.rendezvous import RendezvousHash

import pymemcache

print(f"// pymemcache {pymemcache.__version__}")

print("// murmur3_32(data, seed)")
for data, seed in [("", 0), ("a", 0), ("ab", 0), ("abc", 0), ("abcd", 0), ("abcde", 0),
                   ("hello", 0), ("hello", 1), ("127.0.0.1:11211-user:42", 0),
                   ("The quick brown fox jumps over the lazy dog", 0), ("~~~~~~~", 0x9747B28C)]:
    print(f'{{"{data}", 0x{seed:08x}u, 0x{murmur3_32(data, seed):08x}u}},')

print("// HashClient server choice: nodes, then (key, index)")
nodes = ["127.0.0.1:11211", "127.0.0.1:11212", "127.0.0.1:11213"]
client = HashClient([("127.0.0.1", 11211), ("127.0.0.1", 11212), ("127.0.0.1", 11213)])
keys = ["user:42", "a", "func:app.users.get_user:args:3870b2ea5735ae639ded9450ef117768db676f037bec636503796c5b81095153:1s",
        "myapp:ns:users:func:f:args:00:1s", "__cachekit_health__", "k0", "k1", "k2", "k3", "k4",
        "k5", "k6", "k7", "k8", "k9", "~", "x" * 250]
for key in keys:
    server = client._get_client(key).server
    index = nodes.index("%s:%s" % server)
    assert RendezvousHash(nodes).get_node(key) == nodes[index]
    print(f'{{"{key}", {index}}},')

print("// two nodes, as in the integration test's layout: ports 1 and 2")
two = ["10.0.0.1:11211", "10.0.0.2:11211"]
for key in ["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta"]:
    print(f'{{"{key}", {two.index(RendezvousHash(two).get_node(key))}}},')

print("// a tie: two node names with equal scores for one key (found by search)")
seen = {}
key = "tie"
for i in range(1_000_000):
    node = f"h{i}:11211"
    score = murmur3_32(f"{node}-{key}")
    if score in seen:
        a, b = seen[score], node
        for order in ([a, b], [b, a]):
            winner = RendezvousHash(list(order)).get_node(key)
            print(f'// nodes {order} key "{key}" score 0x{score:08x}: winner "{winner}"')
        break
    seen[score] = node
