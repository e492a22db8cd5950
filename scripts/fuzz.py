#!/usr/bin/env python3
"""Mutation fuzzer for the `exposure` release binary.

Usage: scripts/fuzz.py [SECONDS [SEED]]   (defaults: 3600 s, a time-based seed)
Environment: EXPOSURE_FUZZ_BIN (default: a copy of target/release/exposure, made at start so
that rebuilds do not disturb a campaign), EXPOSURE_FUZZ_OUT (default /tmp/exposure-fuzz: the
per-run log runs.jsonl, stats.json, and repro/<n>/ with a minimised snapshot, cmd.txt,
stderr.txt and finding.json per distinct finding), EXPOSURE_FUZZ_FIXTURES (default: the
repository's fixtures/).

One child process at a time. Each iteration: copy a random fixture snapshot to a temp dir,
apply 1-3 random mutations, run `analyze` (json|sarif|markdown|human), `graph` (dot|json),
and sometimes `query`. Flags panics, signals, timeouts, unexpected exit codes,
uninformative exit-2 messages, and unparsable json/sarif/dot output.
"""
import copy, json, os, random, re, shutil, signal, subprocess, sys, tempfile, time, collections, traceback

HERE = os.path.dirname(os.path.abspath(__file__))
FIX = os.environ.get("EXPOSURE_FUZZ_FIXTURES", os.path.join(HERE, "..", "fixtures"))
OUT = os.environ.get("EXPOSURE_FUZZ_OUT", "/tmp/exposure-fuzz")
BIN = os.environ.get("EXPOSURE_FUZZ_BIN", os.path.join(OUT, "exposure"))
REPRO = os.path.join(OUT, "repro")
WORK = os.path.join(OUT, "work")
TIMEOUT = 10.0
ENV = dict(os.environ, RAYON_NUM_THREADS="1")
ENV.pop("RUST_BACKTRACE", None)

# --------------------------------------------------------------------------- cases

def find_cases():
    cases = []
    for dp, dns, fns in os.walk(FIX):
        if dp == FIX:
            continue
        jsons = [f for f in fns if f.endswith(".json")]
        if "expected.toml" in fns or (os.path.basename(dp) in ("hit", "miss") and "README.md" in fns):
            cases.append(dp)
    return sorted(cases)

def list_json(root):
    out = []
    for dp, dns, fns in os.walk(root):
        for f in fns:
            if f.endswith(".json"):
                out.append(os.path.relpath(os.path.join(dp, f), root))
    return sorted(out)

def all_files(root):
    out = []
    for dp, dns, fns in os.walk(root):
        for f in fns:
            out.append(os.path.relpath(os.path.join(dp, f), root))
    return sorted(out)

# --------------------------------------------------------------------------- endpoints

ID_KEYS = {"InstanceId", "NetworkInterfaceId", "SubnetId", "VpcId", "GroupId", "LoadBalancerName",
           "PrivateIpAddress", "NatGatewayId", "InternetGatewayId", "VpcPeeringConnectionId",
           "TransitGatewayId", "VpnGatewayId", "VpcEndpointId", "LoadBalancerArn", "PublicIp"}

def walk_values(node, fn, key=None):
    if isinstance(node, dict):
        for k, v in node.items():
            walk_values(v, fn, k)
    elif isinstance(node, list):
        for v in node:
            walk_values(v, fn, key)
    else:
        fn(key, node)

def collect_endpoints(root):
    eps = set()
    ids = collections.defaultdict(set)
    for rel in list_json(root):
        try:
            with open(os.path.join(root, rel), "rb") as f:
                doc = json.loads(f.read().decode("utf-8"))
        except Exception:
            continue
        def fn(k, v):
            if isinstance(v, str) and k:
                if k in ID_KEYS:
                    eps.add(v)
                if k.endswith("Id") and re.match(r"^[a-z]+(-[a-z]+)?-[0-9a-f]+$", v):
                    ids[v.split("-")[0]].add(v)
        walk_values(doc, fn)
    exp = os.path.join(root, "expected.toml")
    if os.path.exists(exp):
        for m in re.finditer(r'^(?:from|to)\s*=\s*"([^"]*)"', open(exp).read(), re.M):
            eps.add(m.group(1))
    return sorted(eps), ids

# --------------------------------------------------------------------------- JSON helpers

class Raw:
    """Placeholder for raw JSON text (numbers that Python's json cannot print, deep nesting)."""
    def __init__(self, text):
        self.text = text

def dump(doc, rng):
    raws = []
    def conv(n):
        if isinstance(n, Raw):
            raws.append(n.text)
            return "__FZRAW_%d__" % (len(raws) - 1)
        if isinstance(n, dict):
            return {k: conv(v) for k, v in n.items()}
        if isinstance(n, list):
            return [conv(v) for v in n]
        return n
    d = conv(doc)
    s = json.dumps(d, indent=rng.choice([None, 2, 4]), ensure_ascii=rng.random() < 0.5)
    for i, t in enumerate(raws):
        s = s.replace('"__FZRAW_%d__"' % i, t)
    return s.encode("utf-8")

def slots(doc):
    """All (container, key, path) for every value in the tree."""
    out = []
    def rec(n, path):
        if isinstance(n, dict):
            for k in list(n.keys()):
                out.append((n, k, path + "." + k))
                rec(n[k], path + "." + k)
        elif isinstance(n, list):
            for i in range(len(n)):
                out.append((n, i, path + "[%d]" % i))
                rec(n[i], path + "[%d]" % i)
    rec(doc, "")
    return out

def keyname(container, key, path):
    if isinstance(key, str):
        return key
    m = re.findall(r"\.([A-Za-z0-9_]+)", path)
    return m[-1] if m else ""

def dict_lists(doc):
    """Lists of dicts in the tree: (list, path)."""
    out = []
    def rec(n, path):
        if isinstance(n, dict):
            for k, v in n.items():
                rec(v, path + "." + k)
        elif isinstance(n, list):
            if n and all(isinstance(x, dict) for x in n):
                out.append((n, path))
            for i, v in enumerate(n):
                rec(v, path + "[%d]" % i)
    rec(doc, "")
    return out

def objects_with(doc, key):
    out = []
    def rec(n):
        if isinstance(n, dict):
            if key in n:
                out.append(n)
            for v in n.values():
                rec(v)
        elif isinstance(n, list):
            for v in n:
                rec(v)
    rec(doc)
    return out

def json_ok(b):
    try:
        json.loads(b.decode("utf-8"))
        return True
    except Exception:
        return False

class Skip(Exception):
    pass

# --------------------------------------------------------------------------- mutations
# Each JSON mutation: fn(doc, rng, ctx) -> description (mutates doc in place) or raises Skip.

CIDR_KEY = re.compile(r"(Cidr|CidrBlock|CidrIp|CidrIpv4|CidrIpv6|Ipv6CidrBlock|DestinationCidrBlock|DestinationIpv6CidrBlock|Cidrs)$")
IP_KEY = re.compile(r"(IpAddress|PublicIp|Ipv6Address|PrivateIp|Ip)$")
PORT_KEY = {"FromPort", "ToPort", "Port", "From", "To", "Type", "Code", "HealthCheckPort"}
PROTO_KEY = {"IpProtocol", "Protocol"}

BAD_CIDRS = ["10.0.0.0/33", "::/129", "10.0.0.1/24", "0.0.0.0/0", "::/0", "::ffff:10.0.0.0/104",
             "::ffff:0.0.0.0/96", "::ffff:10.0.1.5/128", "10.0.0.0", "10.0.0.0/", "/24", "10.0.0.0/-1",
             "10.0.0.0/08", "256.0.0.0/8", "10.0.0.0/32", "2a05:d018::/129", "2a05:d018::1/32",
             "1.2.3.4/0", "10.0.0.0 /24", "10.0.0.0/24\n", "fe80::1%eth0/64", "::/0 ", "0/0",
             "10.1/16", "010.000.000.000/8", "::", "255.255.255.255/32", "", "10.0.0.0/24/24"]
BAD_IPS = ["999.1.1.1", "10.0.0.1/24", "::ffff:10.0.0.1", "", "10.0.0", "::", "0.0.0.0",
           "255.255.255.255", "2a05:d018::zz", "10.0.0.1 ", "fe80::1%eth0"]
HUGE = ["18446744073709551616", "-1", "65536", "1e309", "-1e309", "9223372036854775808",
        "-9223372036854775809", "4294967296", "2147483648", "1.5", "80.0", "-0", "1e2",
        "340282366920938463463374607431768211456", "0.0000001", "99999999999999999999999999999999"]
PROTOS = ["300", "-2", "icmpv6", "58", "256", "TCP", "", " 6", "6 ", "all", "-1", "0", "255", "icmp",
          "tcp", "udp", "1", "17", "41", "50", "http", "ICMPV6", "-01", "06", 6, -1, 300]

def any_slot(doc, rng, pred=None):
    s = slots(doc)
    if pred:
        s = [x for x in s if pred(*x)]
    if not s:
        raise Skip()
    return rng.choice(s)

def m_delete_key(doc, rng, ctx):
    c, k, p = any_slot(doc, rng, lambda c, k, p: isinstance(c, dict))
    del c[k]
    return "delete " + p

def m_null(doc, rng, ctx):
    c, k, p = any_slot(doc, rng)
    c[k] = None
    return "null " + p

def wrong_of(v, rng):
    if isinstance(v, bool):
        return rng.choice(["true", 1, [], {}, "yes"])
    if isinstance(v, (int, float)):
        return rng.choice([str(v), [v], {"v": v}, True, "x"])
    if isinstance(v, str):
        return rng.choice([12, [v], {"v": v}, False, 0.5])
    if isinstance(v, list):
        return rng.choice([{}, "x", 1, v[0] if v else {}])
    if isinstance(v, dict):
        return rng.choice([[], [v], "x", 1])
    return rng.choice(["x", 1, [], {}])

def m_wrong_type(doc, rng, ctx):
    c, k, p = any_slot(doc, rng)
    c[k] = wrong_of(c[k], rng)
    ctx["keys"].append(keyname(c, k, p))
    return "wrongtype %s -> %r" % (p, c[k] if not isinstance(c[k], (list, dict)) else type(c[k]).__name__)

def m_empty_string(doc, rng, ctx):
    c, k, p = any_slot(doc, rng, lambda c, k, p: isinstance(c[k], str)) if rng.random() < 0.8 else any_slot(doc, rng)
    c[k] = ""
    return "emptystr " + p

def m_huge_int(doc, rng, ctx):
    c, k, p = any_slot(doc, rng, lambda c, k, p: isinstance(c[k], (int, float)) and not isinstance(c[k], bool))
    c[k] = Raw(rng.choice(HUGE))
    return "huge %s -> %s" % (p, c[k].text)

def m_bad_cidr(doc, rng, ctx):
    def pred(c, k, p):
        kn = keyname(c, k, p)
        v = c[k]
        return isinstance(v, str) and (CIDR_KEY.search(kn) or IP_KEY.search(kn) or re.match(r"^[0-9a-f:.]+/\d+$", v))
    c, k, p = any_slot(doc, rng, pred)
    kn = keyname(c, k, p)
    if IP_KEY.search(kn) and not CIDR_KEY.search(kn):
        c[k] = rng.choice(BAD_IPS + BAD_CIDRS[:6])
    else:
        c[k] = rng.choice(BAD_CIDRS)
    return "cidr %s -> %r" % (p, c[k])

def port_objs(doc):
    objs = [o for o in objects_with(doc, "FromPort") if "ToPort" in o]
    objs += [o for o in objects_with(doc, "From") if "To" in o]
    return objs

def m_reverse_ports(doc, rng, ctx):
    objs = port_objs(doc)
    if not objs:
        raise Skip()
    o = rng.choice(objs)
    a, b = ("FromPort", "ToPort") if "FromPort" in o else ("From", "To")
    lo, hi = o[a], o[b]
    if isinstance(lo, int) and isinstance(hi, int) and lo != hi:
        o[a], o[b] = max(lo, hi), min(lo, hi)
    else:
        o[a], o[b] = rng.choice([(443, 80), (65535, 0), (1, 0), (-1, 80), (80, -1)])
    return "reverse ports %s=%r %s=%r" % (a, o[a], b, o[b])

def m_neg1_port(doc, rng, ctx):
    objs = [o for o in objects_with(doc, "IpProtocol")] + [o for o in objects_with(doc, "Protocol") if "RuleNumber" in o]
    if not objs:
        raise Skip()
    o = rng.choice(objs)
    pk = "IpProtocol" if "IpProtocol" in o else "Protocol"
    o[pk] = rng.choice(["tcp", "udp", "6", "17", "icmp", "1", "58"])
    if pk == "IpProtocol":
        o["FromPort"], o["ToPort"] = rng.choice([(-1, -1), (-1, 80), (80, -1), (0, 0)])
        return "neg1 port %s=%s %r-%r" % (pk, o[pk], o["FromPort"], o["ToPort"])
    o["PortRange"] = rng.choice([{"From": -1, "To": -1}, {"From": 0, "To": -1}, {}, None])
    if o["PortRange"] is None:
        del o["PortRange"]
    o.pop("IcmpTypeCode", None) if rng.random() < 0.5 else None
    return "neg1 nacl port %s=%s %r" % (pk, o[pk], o.get("PortRange"))

def m_protocol(doc, rng, ctx):
    def pred(c, k, p):
        return keyname(c, k, p) in PROTO_KEY
    c, k, p = any_slot(doc, rng, pred)
    c[k] = rng.choice(PROTOS)
    return "proto %s -> %r" % (p, c[k])

def id_key_of(o):
    # primary id key of a list element, e.g. SubnetId in a Subnets element
    for k in o:
        if k.endswith("Id") and isinstance(o[k], str) and k not in ("VpcId", "OwnerId", "SubnetId") :
            return k
    for k in o:
        if k.endswith("Id") and isinstance(o[k], str):
            return k
    if "LoadBalancerArn" in o:
        return "LoadBalancerArn"
    raise Skip()

def m_duplicate_id(doc, rng, ctx):
    lists = dict_lists(doc)
    if not lists:
        raise Skip()
    lst, path = rng.choice(lists)
    i = rng.randrange(len(lst))
    r = rng.random()
    if r < 0.4 or len(lst) == 1:
        lst.append(copy.deepcopy(lst[i]))
        return "dup element %s[%d] (exact copy)" % (path, i)
    j = rng.randrange(len(lst))
    k = id_key_of(lst[i])
    if k not in lst[j]:
        raise Skip()
    lst[j][k] = lst[i][k]
    return "dup id %s[%d].%s = %s" % (path, j, k, lst[i][k])

def m_missing_ref(doc, rng, ctx):
    def pred(c, k, p):
        return isinstance(c[k], str) and re.match(r"^[a-z]+(-[a-z]+)?-0[0-9a-f]+$", c[k])
    c, k, p = any_slot(doc, rng, pred)
    pre = c[k].rsplit("-", 1)[0]
    c[k] = pre + "-0" + rng.choice(["fffffffffffffff", "deadbeefdeadbee", "0"])
    return "missing ref %s -> %s" % (p, c[k])

def nested(depth, rng):
    if rng.random() < 0.5:
        return "[" * depth + "]" * depth
    return '{"a":' * depth + "1" + "}" * depth

def m_deep_nest(doc, rng, ctx):
    c, k, p = any_slot(doc, rng)
    d = rng.choice([127, 128, 129, 200, 1000, 5000, 100000])
    c[k] = Raw(nested(d, rng))
    return "deepnest %s depth=%d" % (p, d)

def m_long_string(doc, rng, ctx):
    c, k, p = any_slot(doc, rng, lambda c, k, p: isinstance(c[k], str))
    n = rng.choice([10000, 1000000, 8000000])
    ch = rng.choice(["A", "é", "\"", "<", "\\", "\u202e", "|", "{", "\n", "😀", "\x00", "]]>"])
    c[k] = ch * n if rng.random() < 0.5 else c[k] + ch * n
    return "longstr %s len=%d ch=%r" % (p, n, ch)

def m_special_string(doc, rng, ctx):
    # strings that stress renderers' escaping (tag values, names, descriptions)
    c, k, p = any_slot(doc, rng, lambda c, k, p: isinstance(c[k], str))
    c[k] = rng.choice(['a"b', "a\\b", "<script>", "a|b`c`", "line1\nline2", "\x00\x01\x1f", "\u2028\u2029",
                       "{x}", "]]>", "-- %s %n %d", "é漢字😀", "\ud800" if False else "\ufffd", "*", "[a](b)",
                       "a\r\nb", "\t", " ", "<<EOF", "'", "&amp;", "label=\"x\"", "}", "\\N"])
    return "specialstr %s -> %r" % (p, c[k])

def m_same_cidr_subnets(doc, rng, ctx):
    subs = doc.get("Subnets") if isinstance(doc, dict) else None
    if not isinstance(subs, list) or not subs:
        raise Skip()
    i = rng.randrange(len(subs))
    if len(subs) == 1 or rng.random() < 0.3:
        s = copy.deepcopy(subs[i])
        s["SubnetId"] = "subnet-0fe" + "%013x" % rng.randrange(16 ** 13)
        subs.append(s)
        return "same cidr: new subnet %s copies %s" % (s["SubnetId"], subs[i].get("CidrBlock"))
    j = rng.choice([x for x in range(len(subs)) if x != i])
    subs[j]["CidrBlock"] = subs[i].get("CidrBlock")
    if rng.random() < 0.5 and "VpcId" in subs[i]:
        subs[j]["VpcId"] = subs[i]["VpcId"]
    return "same cidr: Subnets[%d] = Subnets[%d] = %s" % (j, i, subs[i].get("CidrBlock"))

def m_route_both(doc, rng, ctx):
    routes = []
    for rt in objects_with(doc, "Routes"):
        if isinstance(rt["Routes"], list):
            routes += [r for r in rt["Routes"] if isinstance(r, dict)]
    if not routes:
        raise Skip()
    r = rng.choice(routes)
    nat = rng.choice(sorted(ctx["ids"].get("nat", [])) or ["nat-0fe0000000000001"])
    igw = rng.choice(sorted(ctx["ids"].get("igw", [])) or ["igw-0fe0000000000001"])
    extra = rng.choice([{}, {"TransitGatewayId": "tgw-0fe0000000000001"},
                        {"NetworkInterfaceId": rng.choice(sorted(ctx["ids"].get("eni", [])) or ["eni-0fe0000000000001"])},
                        {"VpcPeeringConnectionId": "pcx-0fe0000000000001"}, {"EgressOnlyInternetGatewayId": "eigw-0fe0000000000001"}])
    r["GatewayId"] = r.get("GatewayId") or igw
    r["NatGatewayId"] = r.get("NatGatewayId") or nat
    r.update(extra)
    return "route both gw+nat %s %s %s" % (r.get("DestinationCidrBlock"), r["GatewayId"], r["NatGatewayId"])

def m_nacl_rule(doc, rng, ctx):
    entries = []
    for acl in objects_with(doc, "Entries"):
        if isinstance(acl["Entries"], list) and "NetworkAclId" in acl:
            entries.append(acl["Entries"])
    if not entries:
        raise Skip()
    es = rng.choice(entries)
    es2 = [e for e in es if isinstance(e, dict)]
    if not es2:
        raise Skip()
    e = rng.choice(es2)
    if rng.random() < 0.5 and len(es2) > 1:
        o = rng.choice([x for x in es2 if x is not e])
        e["RuleNumber"] = o.get("RuleNumber")
        e["Egress"] = o.get("Egress")
        if rng.random() < 0.5:
            e["RuleAction"] = "deny" if o.get("RuleAction") == "allow" else "allow"
        return "nacl dup rule number %r egress=%r" % (e["RuleNumber"], e["Egress"])
    e["RuleNumber"] = rng.choice([32766, 32767, 32768, 32769, 65535, 65536, 0, -1, 2 ** 31, 2 ** 32, 1])
    return "nacl rule number %r" % e["RuleNumber"]

def m_sg_self_ref(doc, rng, ctx):
    sgs = doc.get("SecurityGroups") if isinstance(doc, dict) else None
    if not isinstance(sgs, list) or not sgs:
        raise Skip()
    sg = rng.choice(sgs)
    if not isinstance(sg, dict) or "GroupId" not in sg:
        raise Skip()
    perm = {"IpProtocol": rng.choice(["-1", "tcp"]), "IpRanges": [], "Ipv6Ranges": [], "PrefixListIds": [],
            "UserIdGroupPairs": [{"GroupId": sg["GroupId"], "UserId": "111122223333"}]}
    if perm["IpProtocol"] == "tcp":
        perm["FromPort"], perm["ToPort"] = 0, 65535
    key = rng.choice(["IpPermissions", "IpPermissionsEgress"])
    if not isinstance(sg.get(key), list):
        sg[key] = []
    sg[key].append(perm)
    return "sg self ref %s in %s" % (sg["GroupId"], key)

def rand_cidr(rng):
    if rng.random() < 0.7:
        return "%d.%d.%d.0/24" % (rng.randrange(1, 224), rng.randrange(256), rng.randrange(256))
    return "2001:db8:%x:%x::/64" % (rng.randrange(65536), rng.randrange(65536))

ALL_JSON = [
    ("delete_key", m_delete_key, 3), ("null", m_null, 3), ("wrong_type", m_wrong_type, 3),
    ("empty_string", m_empty_string, 2), ("huge_int", m_huge_int, 3), ("bad_cidr", m_bad_cidr, 4),
    ("reverse_ports", m_reverse_ports, 3), ("neg1_port", m_neg1_port, 3), ("protocol", m_protocol, 3),
    ("duplicate_id", m_duplicate_id, 3), ("missing_ref", m_missing_ref, 3), ("deep_nest", m_deep_nest, 1),
    ("long_string", m_long_string, 1), ("special_string", m_special_string, 2),
    ("same_cidr_subnets", m_same_cidr_subnets, 2), ("route_both", m_route_both, 2),
    ("nacl_rule", m_nacl_rule, 2), ("sg_self_ref", m_sg_self_ref, 2),
]
# mutations that pick their own file
TARGETED = {"same_cidr_subnets": "Subnets", "route_both": "RouteTables", "nacl_rule": "NetworkAcls",
            "sg_self_ref": "SecurityGroups"}

# mutations that need certain keys: prefer files holding them
KEYED = {"protocol": ("IpProtocol", '"Protocol"'), "reverse_ports": ("FromPort", "PortRange"),
         "neg1_port": ("IpProtocol", "RuleNumber"), "bad_cidr": ("Cidr", "IpAddress", "PublicIp"),
         "huge_int": ("Port", "RuleNumber", "Weight"), "missing_ref": ("Id\"",)}

# raw / file-system mutations: fn(root, rel, rng, ctx) -> desc
def r_truncate(root, rel, rng, ctx):
    p = os.path.join(root, rel)
    b = open(p, "rb").read()
    if len(b) < 3:
        raise Skip()
    n = rng.randrange(1, len(b) - 1)
    open(p, "wb").write(b[:n])
    if not json_ok(b[:n]):
        ctx["invalid_json"].add(rel)
    return "truncate %s at %d/%d" % (rel, n, len(b))

def r_bad_utf8(root, rel, rng, ctx):
    p = os.path.join(root, rel)
    b = open(p, "rb").read()
    quotes = [m.start() for m in re.finditer(rb'"', b)]
    pos = rng.choice(quotes) + 1 if quotes and rng.random() < 0.8 else rng.randrange(len(b) + 1)
    bad = rng.choice([b"\xff", b"\xc3", b"\xed\xa0\x80", b"\xc0\xaf", b"\xf8\x88\x80\x80\x80", b"\x80"])
    open(p, "wb").write(b[:pos] + bad + b[pos:])
    ctx["invalid_json"].add(rel)
    return "bad utf8 %s at %d %r" % (rel, pos, bad)

def r_bom(root, rel, rng, ctx):
    p = os.path.join(root, rel)
    b = open(p, "rb").read()
    kind = rng.choice(["utf8", "utf8", "utf16le"])
    if kind == "utf8":
        open(p, "wb").write(b"\xef\xbb\xbf" + b)
    else:
        try:
            open(p, "wb").write(b"\xff\xfe" + b.decode("utf-8").encode("utf-16-le"))
        except UnicodeDecodeError:
            raise Skip()
        ctx["invalid_json"].add(rel)
    return "bom %s %s" % (kind, rel)

def r_empty(root, rel, rng, ctx):
    p = os.path.join(root, rel)
    content = rng.choice([b"", b"", b" ", b"\n", b"{}", b"null", b"[]", b"0", b"\"\""])
    open(p, "wb").write(content)
    if content.strip() in (b"",):
        ctx["invalid_json"].add(rel)
    return "empty %s %r" % (rel, content)

def r_dir(root, rel, rng, ctx):
    p = os.path.join(root, rel)
    b = open(p, "rb").read()
    os.remove(p)
    os.mkdir(p)
    if rng.random() < 0.5:
        open(os.path.join(p, "inner.json"), "wb").write(b)
        return "file->dir %s (with inner.json)" % rel
    return "file->dir %s (empty)" % rel

def r_symlink(root, rel, rng, ctx):
    d = os.path.dirname(os.path.join(root, rel))
    kind = rng.choice(["loop", "dangling", "self"])
    if kind == "loop":
        os.symlink("..", os.path.join(d, "loop"))
    elif kind == "dangling":
        os.symlink("does-not-exist.json", os.path.join(d, "dangling.json"))
    else:
        os.symlink("selfref.json", os.path.join(d, "selfref.json"))
    return "symlink %s in %s" % (kind, os.path.relpath(d, root))

def r_dup_file(root, rel, rng, ctx):
    p = os.path.join(root, rel)
    shutil.copy(p, p[:-5] + "-copy.json")
    return "dup file %s" % rel

def r_dup_key_raw(root, rel, rng, ctx):
    p = os.path.join(root, rel)
    b = open(p, "rb").read()
    ms = list(re.finditer(rb'\{\s*("[A-Za-z]+")\s*:\s*("[^"]*"|-?\d+|true|false|null)', b))
    if not ms:
        raise Skip()
    m = rng.choice(ms)
    ins = b"{" + m.group(1) + b": " + rng.choice([m.group(2), b"null", b"\"zz\"", b"7"]) + b", "
    open(p, "wb").write(b[:m.start()] + ins + b[m.start() + 1:])
    return "dup key %s %s" % (rel, m.group(1).decode())

def r_prefix_list(root, rel, rng, ctx):
    # 0 or 10,000 entries in an existing prefix-list entries file, or a new list referenced by an SG rule
    n = rng.choice([0, 10000])
    for f in list_json(root):
        if "get-managed-prefix-list-entries" in f:
            p = os.path.join(root, f)
            try:
                doc = json.loads(open(p, "rb").read())
            except Exception:
                continue
            if isinstance(doc, dict):
                doc["Entries"] = [{"Cidr": rand_cidr(rng)} for _ in range(n)]
                open(p, "w").write(json.dumps(doc))
                return "prefix list %s entries=%d" % (f, n)
    # create one and reference it from an SG file
    for f in list_json(root):
        p = os.path.join(root, f)
        try:
            doc = json.loads(open(p, "rb").read())
        except Exception:
            continue
        if isinstance(doc, dict) and isinstance(doc.get("SecurityGroups"), list) and doc["SecurityGroups"]:
            sg = rng.choice(doc["SecurityGroups"])
            if not isinstance(sg, dict):
                continue
            pl = "pl-0fe00000000000001"
            sg.setdefault("IpPermissions", []).append({"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22,
                                                      "IpRanges": [], "PrefixListIds": [{"PrefixListId": pl}]})
            open(p, "w").write(json.dumps(doc, indent=2))
            d = os.path.dirname(p)
            open(os.path.join(d, "describe-managed-prefix-lists-fz.json"), "w").write(json.dumps(
                {"PrefixLists": [{"PrefixListId": pl, "AddressFamily": "IPv4", "State": "create-complete",
                                  "PrefixListName": "fz", "MaxEntries": max(n, 1), "OwnerId": "111122223333"}]}))
            open(os.path.join(d, "get-managed-prefix-list-entries-%s.json" % pl), "w").write(json.dumps(
                {"PrefixListId": pl, "Entries": [{"Cidr": rand_cidr(rng)} for _ in range(n)]}))
            return "new prefix list %s entries=%d referenced by %s" % (pl, n, sg.get("GroupId"))
    raise Skip()

ALL_RAW = [("truncate", r_truncate, 3), ("bad_utf8", r_bad_utf8, 2), ("bom", r_bom, 2), ("empty_file", r_empty, 2),
           ("file_is_dir", r_dir, 1), ("symlink", r_symlink, 1), ("dup_file", r_dup_file, 1),
           ("dup_key_raw", r_dup_key_raw, 1), ("prefix_list", r_prefix_list, 2)]

ALL = [(n, f, w, "json") for n, f, w in ALL_JSON] + [(n, f, w, "raw") for n, f, w in ALL_RAW]
BYNAME = {n: (f, kind) for n, f, w, kind in ALL}

def apply_mutation(root, name, rel, seed, ctx):
    """Apply one mutation deterministically. Returns (desc, rel) or raises Skip."""
    rng = random.Random(seed)
    fn, kind = BYNAME[name]
    files = list_json(root)
    files = [f for f in files if os.path.isfile(os.path.join(root, f)) and not os.path.islink(os.path.join(root, f))]
    if not files:
        raise Skip()
    want = TARGETED.get(name) or KEYED.get(name)
    cands = files
    if want:
        cands = []
        for f in files:
            try:
                b = open(os.path.join(root, f), "rb").read()
            except Exception:
                continue
            if any(w.encode() in b for w in (want if isinstance(want, tuple) else (want,))):
                cands.append(f)
        if not cands:
            raise Skip()
    chosen = rng.choice(cands)
    if rel is None:
        rel = chosen
    elif rel not in files:
        raise Skip()
    if kind == "raw":
        return fn(root, rel, rng, ctx), rel
    p = os.path.join(root, rel)
    try:
        doc = json.loads(open(p, "rb").read().decode("utf-8"))
    except Exception:
        raise Skip()
    desc = fn(doc, rng, ctx)
    open(p, "wb").write(dump(doc, rng))
    ctx["keys_by_file"].setdefault(rel, [])
    return desc, rel

# --------------------------------------------------------------------------- run + oracle

def run(args, cwd=None):
    t0 = time.time()
    try:
        p = subprocess.Popen([BIN] + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=ENV,
                             start_new_session=True, cwd=cwd or WORK)
        try:
            out, err = p.communicate(timeout=TIMEOUT)
            rc = p.returncode
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            out, err = p.communicate()
            rc = "timeout"
    except OSError as e:
        return "oserror", b"", str(e).encode(), 0
    return rc, out, err, time.time() - t0

def validate_dot(out):
    try:
        p = subprocess.run(["dot", "-Tcanon", "-o", "/dev/null"], input=out, capture_output=True, timeout=30)
        return p.returncode == 0 and not re.search(rb"syntax error|Error", p.stderr), p.stderr.decode("utf-8", "replace")[:300]
    except subprocess.TimeoutExpired:
        return True, "dot timeout"

def normalize(msg):
    m = msg
    m = re.sub(re.escape(OUT) + r"/[^\s:'\"]*", "<P>", m)
    m = re.sub(r"[a-z]+-0[0-9a-f]{5,}", "<ID>", m)
    m = re.sub(r"\d+", "N", m)
    return m[:200]

def classify(cmd, rc, out, err, ctx, root):
    """Return (signature, kind) or None."""
    e = err.decode("utf-8", "replace")
    if "panicked" in e or "RUST_BACKTRACE" in e:
        m = re.search(r"panicked at ([^\n]*?:\d+:\d+)", e)
        loc = m.group(1) if m else "?"
        mm = re.search(r"panicked at [^\n]*\n([^\n]*)", e)
        return "panic@%s" % loc, "panic"
    if e.find("overflowed its stack") >= 0:
        return "stackoverflow:" + cmd[0], "signal"
    if rc == "timeout":
        return "timeout:" + cmd[0], "timeout"
    if rc == "oserror":
        return None
    if isinstance(rc, int) and rc < 0:
        return "signal%d" % -rc, "signal"
    if rc == 101:
        return "rc101", "panic"
    usage = "Usage:" in e or "For more information, try '--help'" in e
    if rc not in (0, 2):
        if not (rc == 1 and "--expect" in cmd):
            return "rc%d:%s:%s" % (rc, cmd[0], normalize(e.strip().splitlines()[0] if e.strip() else "")), "exitcode"
    if rc == 2:
        if not e.strip():
            return "rc2-empty-stderr", "uninformative"
        if usage:
            return None
        if cmd[0] == "query":
            f, t = cmd[cmd.index("--from") + 1], cmd[cmd.index("--to") + 1]
            if any(x in e for x in ("--port", "--source-port", "--protocol", "ICMP", "--from", "--to")) or \
               "`%s`" % f in e or "`%s`" % t in e:
                return None
        names = set()
        for dp, dns, fns in os.walk(root):
            for f in fns + [d for d in dns if d.endswith(".json") or d == "loop"]:
                names.add(f)
        if not any(n in e for n in names if len(n) > 3) and not any(k and k in e for k in ctx["keys"]):
            return "rc2-uninformative:" + normalize(e.strip().splitlines()[0]), "uninformative"
        return None
    if rc == 0:
        fmt = cmd[cmd.index("--format") + 1] if "--format" in cmd else "human"
        if fmt in ("json", "sarif"):
            try:
                doc = json.loads(out.decode("utf-8"))
            except Exception as ex:
                return "badjson:%s:%s" % (cmd[0], fmt), "badoutput"
            if fmt == "sarif" and not (isinstance(doc, dict) and doc.get("version") == "2.1.0" and isinstance(doc.get("runs"), list)):
                return "badsarif-shape", "badoutput"
            if cmd[0] == "query" and not (isinstance(doc, dict) and doc.get("verdict") in ("reachable", "unreachable", "unknown")):
                return "query-bad-verdict", "badoutput"
        elif fmt == "dot":
            ok, msg = validate_dot(out)
            if not ok:
                return "baddot:" + normalize(msg.splitlines()[0] if msg else ""), "badoutput"
        else:
            if not out.strip():
                return "empty-stdout:%s:%s" % (cmd[0], fmt), "badoutput"
        # malformed JSON must not be accepted silently
        if ctx.get("invalid_json") and cmd[0] in ("analyze", "graph", "query"):
            still = [r for r in ctx["invalid_json"] if os.path.isfile(os.path.join(root, r))
                     and not json_ok(open(os.path.join(root, r), "rb").read())]
            if still:
                return "malformed-json-accepted", "exitcode"
    return None

def make_cmds(root, rng, eps):
    cmds = []
    fmt = rng.choice(["json", "sarif", "markdown", "dot", "human"])
    if fmt == "dot":
        cmds.append(["graph", root, "--format", rng.choice(["dot", "dot", "json"])])
    else:
        cmds.append(["analyze", root, "--format", fmt])
    if rng.random() < 0.45:
        pool = list(eps) + ["internet"] * 3
        weird = ["", "0.0.0.0/0", "::/0", "10.0.0.0/33", "::ffff:10.0.0.1", "tag:Name=", "tag:=x", "i-",
                 "999.1.1.1", "10.0.0.1/24", "internet", "vpc-0ffffffffffffffff", "2a05:d018::1", "-1"]
        f = rng.choice(pool) if rng.random() < 0.9 else rng.choice(weird)
        t = rng.choice(pool) if rng.random() < 0.9 else rng.choice(weird)
        c = ["query", root, "--from", f, "--to", t, "--format", rng.choice(["json", "json", "human"])]
        if rng.random() < 0.5:
            c += ["--port", rng.choice(["22", "80", "443", "5432", "0", "65535", "1-65535", "443-80", "65536", "-1", "80-80", "3389"])]
        if rng.random() < 0.5:
            c += ["--protocol", rng.choice(["tcp", "udp", "icmp", "all"])]
        if rng.random() < 0.15:
            c += ["--source-port", rng.choice(["1024-65535", "80", "0", "65535-0"])]
        if rng.random() < 0.1:
            c += ["--expect", rng.choice(["reachable", "unreachable"])]
        cmds.append(c)
    return cmds

def eq_arg(a, root):
    return [x.replace(root, "SNAP") for x in a]

# --------------------------------------------------------------------------- minimisation

def reproduce(case, muts, cmd_tmpl, sig, dest, extra_drop=()):
    """Build snapshot from case + mutation subset in dest; drop files in extra_drop; check signature."""
    if os.path.exists(dest):
        shutil.rmtree(dest)
    shutil.copytree(case, dest, symlinks=True)
    ctx = {"keys": [], "invalid_json": set(), "keys_by_file": {}, "ids": collect_endpoints(dest)[1]}
    for (name, rel, seed) in muts:
        try:
            apply_mutation(dest, name, rel, seed, ctx)
        except Skip:
            return False, None
        except Exception:
            return False, None
    for f in extra_drop:
        p = os.path.join(dest, f)
        if os.path.islink(p) or os.path.isfile(p):
            os.remove(p)
        elif os.path.isdir(p):
            shutil.rmtree(p)
    cmd = [x.replace("SNAP", dest) for x in cmd_tmpl]
    rc, out, err, dt = run(cmd)
    r = classify(cmd, rc, out, err, ctx, dest)
    return (r is not None and r[0] == sig), (cmd, rc, out, err, ctx)

def minimise(case, muts, cmd_tmpl, sig, dest, budget_s):
    t_end = time.time() + budget_s
    muts = list(muts)
    # 1. drop mutations
    i = 0
    while i < len(muts) and len(muts) > 1 and time.time() < t_end:
        trial = muts[:i] + muts[i + 1:]
        ok, _ = reproduce(case, trial, cmd_tmpl, sig, dest)
        if ok:
            muts = trial
        else:
            i += 1
    # 2. drop files not touched by mutations
    drop = []
    files = [f for f in all_files(case)]
    touched = {rel for (_, rel, _) in muts}
    for f in files:
        if time.time() > t_end:
            break
        if f in touched:
            continue
        ok, _ = reproduce(case, muts, cmd_tmpl, sig, dest, drop + [f])
        if ok:
            drop.append(f)
    ok, info = reproduce(case, muts, cmd_tmpl, sig, dest, drop)
    return muts, drop, ok, info

# --------------------------------------------------------------------------- main loop

def main():
    budget = float(sys.argv[1]) if len(sys.argv) > 1 else 3600
    seed = int(sys.argv[2]) if len(sys.argv) > 2 else int(time.time())
    rng = random.Random(seed)
    os.makedirs(REPRO, exist_ok=True)
    if "EXPOSURE_FUZZ_BIN" not in os.environ:
        shutil.copy2(os.path.join(HERE, "..", "target", "release", "exposure"), BIN)
    os.makedirs(WORK, exist_ok=True)
    cases = find_cases()
    # weight semantics/findings less so bad/edge/graph/policy get their share
    t_start = time.time()
    stats = {"runs": 0, "iterations": 0, "mut_applied": collections.Counter(), "mut_skipped": collections.Counter(),
             "rc_by_mut": collections.defaultdict(collections.Counter), "rc_by_cmd": collections.defaultdict(collections.Counter),
             "max_time": 0.0, "max_time_cmd": None, "cases": collections.Counter()}
    findings = {}
    log = open(os.path.join(OUT, "runs.jsonl"), "a")
    cur = os.path.join(WORK, "snap")
    while time.time() - t_start < budget:
        stats["iterations"] += 1
        case = rng.choice(cases)
        stats["cases"][os.path.relpath(case, FIX).split("/")[0]] += 1
        if os.path.exists(cur):
            shutil.rmtree(cur)
        shutil.copytree(case, cur, symlinks=True)
        eps, ids = collect_endpoints(cur)
        ctx = {"keys": [], "invalid_json": set(), "keys_by_file": {}, "ids": ids}
        muts, descs = [], []
        n = rng.choice([1, 1, 2, 2, 3])
        tries = 0
        while len(muts) < n and tries < 20:
            tries += 1
            name = rng.choices([a[0] for a in ALL], weights=[a[2] for a in ALL])[0]
            s = rng.randrange(2 ** 32)
            try:
                desc, rel = apply_mutation(cur, name, None, s, ctx)
            except Skip:
                stats["mut_skipped"][name] += 1
                continue
            except Exception as ex:
                stats["mut_skipped"][name] += 1
                sys.stderr.write("mutation error %s: %s\n" % (name, traceback.format_exc()))
                continue
            muts.append((name, rel, s))
            descs.append(desc)
            stats["mut_applied"][name] += 1
        for cmd in make_cmds(cur, rng, eps):
            rc, out, err, dt = run(cmd)
            stats["runs"] += 1
            stats["rc_by_cmd"][cmd[0]][str(rc)] += 1
            for (name, _, _) in muts:
                stats["rc_by_mut"][name][str(rc)] += 1
            if dt > 2.0:
                stats.setdefault("slow", []).append([round(dt, 2), rc, os.path.relpath(case, FIX), eq_arg(cmd, cur), descs])
                stats["slow"] = sorted(stats["slow"], key=lambda x: -x[0])[:15]
            if dt > stats["max_time"]:
                stats["max_time"], stats["max_time_cmd"] = dt, [eq_arg(cmd, cur), descs]
            r = classify(cmd, rc, out, err, ctx, cur)
            log.write(json.dumps({"case": os.path.relpath(case, FIX), "muts": descs, "cmd": eq_arg(cmd, cur)[0:1] + eq_arg(cmd, cur)[2:],
                                  "rc": rc, "t": round(dt, 3), "err": err[:200].decode("utf-8", "replace"),
                                  "finding": r[0] if r else None}) + "\n")
            if r is None:
                continue
            sig, kind = r
            if sig in findings:
                findings[sig]["hits"] += 1
                continue
            # new finding: minimise and save
            nidx = len(findings) + 1
            dest = os.path.join(REPRO, str(nidx), "snapshot")
            os.makedirs(os.path.dirname(dest), exist_ok=True)
            tmpl = eq_arg(cmd, cur)
            mb = 20 if kind != "timeout" else 120
            mm, drop, ok, info = minimise(case, muts, tmpl, sig, dest, mb)
            if not ok:
                # could not reproduce the minimised form: keep the original mutated tree
                if os.path.exists(dest):
                    shutil.rmtree(dest)
                shutil.copytree(cur, dest, symlinks=True)
                mm, drop = muts, []
                rcmd = [x.replace(cur, dest) for x in cmd]
                rrc, rout, rerr = rc, out, err
            else:
                rcmd, rrc, rout, rerr, _ = info
            with open(os.path.join(REPRO, str(nidx), "cmd.txt"), "w") as fh:
                fh.write(" ".join("'%s'" % a if (not a or " " in a) else a for a in [BIN] + rcmd) + "\n")
            open(os.path.join(REPRO, str(nidx), "stderr.txt"), "wb").write(rerr)
            open(os.path.join(REPRO, str(nidx), "stdout.txt"), "wb").write(rout[:20000])
            findings[sig] = {"n": nidx, "kind": kind, "sig": sig, "case": os.path.relpath(case, FIX),
                             "mutations": descs, "min_mutations": [m[0] for m in mm], "dropped_files": drop,
                             "minimised": ok, "cmd": rcmd, "rc": rrc,
                             "stderr": rerr[:600].decode("utf-8", "replace"), "hits": 1}
            json.dump(findings[sig], open(os.path.join(REPRO, str(nidx), "finding.json"), "w"), indent=2)
            print("FINDING %d %s rc=%s %s" % (nidx, sig, rrc, descs), flush=True)
        if stats["iterations"] % 200 == 0:
            print("iter %d runs %d findings %d elapsed %.0fs" % (stats["iterations"], stats["runs"], len(findings), time.time() - t_start), flush=True)
            dump_stats(stats, findings, seed)
    dump_stats(stats, findings, seed)
    print("done", stats["runs"], "runs", len(findings), "findings")

def dump_stats(stats, findings, seed):
    s = dict(stats)
    s["seed"] = seed
    s["rc_by_mut"] = {k: dict(v) for k, v in stats["rc_by_mut"].items()}
    s["rc_by_cmd"] = {k: dict(v) for k, v in stats["rc_by_cmd"].items()}
    s["findings"] = [{k: v for k, v in f.items() if k != "stderr"} | {"stderr_head": f["stderr"][:300]} for f in findings.values()]
    json.dump(s, open(os.path.join(OUT, "stats.json"), "w"), indent=1, default=str)

if __name__ == "__main__":
    main()
