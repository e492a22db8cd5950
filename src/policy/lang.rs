//! The TOML policy language (documented in `docs/policies.md`).
//!
//! ```toml
//! [[policy]]
//! id = "no-admin-ports-from-internet"
//! kind = "deny"                      # deny | allow-only | require
//! description = "Administration ports are never reachable from the internet."
//! severity = "critical"              # info | low | medium | high | critical
//! from = ["internet"]
//! to = ["*"]
//! protocol = "tcp"                   # tcp | udp | icmp | all | a number; or protocols = [...]
//! ports = [22, 3389, "5985-5986"]
//! ```
//!
//! Every field is read as a spanned TOML value and checked here, so that each error
//! names the file, the line and the field.

use serde::Deserialize;
use toml::Spanned;

use super::select::Selector;
use super::{line_col, parse_severity, Body, Kind, Policy, PolicyError, TrafficSpec};
use crate::model::Protocol;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    policy: Vec<Spanned<RawPolicy>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPolicy {
    id: Option<Spanned<toml::Value>>,
    kind: Option<Spanned<toml::Value>>,
    description: Option<Spanned<toml::Value>>,
    severity: Option<Spanned<toml::Value>>,
    from: Option<Spanned<toml::Value>>,
    to: Option<Spanned<toml::Value>>,
    protocol: Option<Spanned<toml::Value>>,
    protocols: Option<Spanned<toml::Value>>,
    ports: Option<Spanned<toml::Value>>,
}

struct Ctx<'a> {
    file: &'a str,
    text: &'a str,
}

impl Ctx<'_> {
    fn err(&self, offset: usize, field: Option<String>, message: String) -> PolicyError {
        let (line, column) = line_col(self.text, offset);
        PolicyError {
            file: self.file.to_string(),
            line,
            column,
            field,
            message,
        }
    }
}

/// The name between the first pair of backticks of a serde message (`unknown field `x``).
fn backticked(msg: &str) -> Option<String> {
    let start = msg.find('`')? + 1;
    let len = msg[start..].find('`')?;
    Some(msg[start..start + len].to_string())
}

pub(crate) fn parse(file: &str, text: &str) -> Result<Vec<Policy>, PolicyError> {
    let cx = Ctx { file, text };
    let raw: RawFile = toml::from_str(text).map_err(|e| {
        let offset = e.span().map(|s| s.start).unwrap_or(0);
        let msg = e.message().to_string();
        let field = if msg.starts_with("unknown field") || msg.starts_with("missing field") {
            backticked(&msg)
        } else {
            None
        };
        cx.err(offset, field, msg)
    })?;
    let mut out = Vec::new();
    for p in raw.policy {
        let start = p.span().start;
        out.push(policy(&cx, start, p.into_inner())?);
    }
    Ok(out)
}

fn required<'v>(
    cx: &Ctx,
    start: usize,
    v: &'v Option<Spanned<toml::Value>>,
    name: &str,
) -> Result<&'v Spanned<toml::Value>, PolicyError> {
    v.as_ref().ok_or_else(|| {
        cx.err(
            start,
            Some(name.into()),
            format!("missing field `{name}` in this [[policy]]"),
        )
    })
}

fn string(cx: &Ctx, v: &Spanned<toml::Value>, name: &str) -> Result<String, PolicyError> {
    match v.get_ref() {
        toml::Value::String(s) => Ok(s.clone()),
        other => Err(cx.err(
            v.span().start,
            Some(name.into()),
            format!("expected a string, found {}", other.type_str()),
        )),
    }
}

/// A string or an array of strings.
fn strings(cx: &Ctx, v: &Spanned<toml::Value>, name: &str) -> Result<Vec<String>, PolicyError> {
    let bad = |what: &str| {
        cx.err(
            v.span().start,
            Some(name.into()),
            format!("expected a string or an array of strings, found {what}"),
        )
    };
    match v.get_ref() {
        toml::Value::String(s) => Ok(vec![s.clone()]),
        toml::Value::Array(items) => items
            .iter()
            .map(|i| match i {
                toml::Value::String(s) => Ok(s.clone()),
                other => Err(bad(&format!("an array holding {}", other.type_str()))),
            })
            .collect(),
        other => Err(bad(other.type_str())),
    }
}

fn selectors(cx: &Ctx, v: &Spanned<toml::Value>, name: &str) -> Result<Vec<Selector>, PolicyError> {
    let list = strings(cx, v, name)?;
    if list.is_empty() {
        return Err(cx.err(
            v.span().start,
            Some(name.into()),
            "an empty list selects nothing; write [\"*\"] for every resource".into(),
        ));
    }
    list.iter()
        .map(|s| Selector::parse(s).map_err(|e| cx.err(v.span().start, Some(name.into()), e)))
        .collect()
}

fn protocol_number(s: &str) -> Result<Option<Vec<u8>>, String> {
    s.parse::<crate::engine::query::ProtocolArg>()
        .map(|p| p.protocols())
}

fn protocols(cx: &Ctx, raw: &RawPolicy) -> Result<Option<Vec<u8>>, PolicyError> {
    let (v, name) = match (&raw.protocol, &raw.protocols) {
        (Some(_), Some(b)) => {
            return Err(cx.err(
                b.span().start,
                Some("protocols".into()),
                "write either `protocol` or `protocols`, not both".into(),
            ))
        }
        (Some(a), None) => (a, "protocol"),
        (None, Some(b)) => (b, "protocols"),
        (None, None) => return Ok(None),
    };
    let list: Vec<String> = match v.get_ref() {
        toml::Value::Integer(n) => vec![n.to_string()],
        toml::Value::Array(items) => items
            .iter()
            .map(|i| match i {
                toml::Value::Integer(n) => n.to_string(),
                toml::Value::String(s) => s.clone(),
                other => other.to_string(),
            })
            .collect(),
        _ => strings(cx, v, name)?,
    };
    if list.is_empty() {
        return Err(cx.err(
            v.span().start,
            Some(name.into()),
            format!("an empty list names no protocol, so the policy would check nothing; leave `{name}` out for every protocol"),
        ));
    }
    let mut out: Vec<u8> = Vec::new();
    for p in &list {
        match protocol_number(p).map_err(|e| cx.err(v.span().start, Some(name.into()), e))? {
            None => return Ok(None),
            Some(ps) => {
                for x in ps {
                    if !out.contains(&x) {
                        out.push(x);
                    }
                }
            }
        }
    }
    Ok(Some(out))
}

/// Parses `22`, `"22"`, `"1024-65535"`.
pub(crate) fn port_range(s: &str) -> Result<(u16, u16), String> {
    let p = |x: &str| {
        x.trim()
            .parse::<u16>()
            .map_err(|_| format!("`{s}` is not a port (0-65535) or a range A-B"))
    };
    match s.split_once('-') {
        Some((a, b)) => {
            let (a, b) = (p(a)?, p(b)?);
            if a > b {
                Err(format!("`{s}`: the range is reversed"))
            } else {
                Ok((a, b))
            }
        }
        None => p(s).map(|x| (x, x)),
    }
}

fn ports(cx: &Ctx, v: &Spanned<toml::Value>) -> Result<Vec<(u16, u16)>, PolicyError> {
    let one = |x: &toml::Value| -> Result<(u16, u16), String> {
        match x {
            toml::Value::Integer(n) => u16::try_from(*n)
                .map(|p| (p, p))
                .map_err(|_| format!("`{n}` is not a port (0-65535)")),
            toml::Value::String(s) => port_range(s),
            other => Err(format!(
                "expected a port number or a \"A-B\" range, found {}",
                other.type_str()
            )),
        }
    };
    let list: Vec<&toml::Value> = match v.get_ref() {
        toml::Value::Array(items) => items.iter().collect(),
        x => vec![x],
    };
    if list.is_empty() {
        return Err(cx.err(
            v.span().start,
            Some("ports".into()),
            "an empty list names no port; leave `ports` out for every port".into(),
        ));
    }
    let mut out = Vec::new();
    for x in list {
        out.push(one(x).map_err(|e| cx.err(v.span().start, Some("ports".into()), e))?);
    }
    Ok(out)
}

fn policy(cx: &Ctx, start: usize, raw: RawPolicy) -> Result<Policy, PolicyError> {
    let id_v = required(cx, start, &raw.id, "id")?;
    let id = string(cx, id_v, "id")?;
    if id.is_empty()
        || !id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/'))
    {
        return Err(cx.err(
            id_v.span().start,
            Some("id".into()),
            format!("`{id}`: an id is letters, digits, `-`, `_`, `.` or `/` (it names the rule in SARIF)"),
        ));
    }
    let kind_v = required(cx, start, &raw.kind, "kind")?;
    let kind = match string(cx, kind_v, "kind")?.as_str() {
        "deny" => Kind::Deny,
        "allow-only" | "allow_only" => Kind::AllowOnly,
        "require" => Kind::Require,
        other => {
            return Err(cx.err(
                kind_v.span().start,
                Some("kind".into()),
                format!("unknown kind `{other}`; kinds are deny, allow-only, require"),
            ))
        }
    };
    let description = string(
        cx,
        required(cx, start, &raw.description, "description")?,
        "description",
    )?;
    let sev_v = required(cx, start, &raw.severity, "severity")?;
    let sev = string(cx, sev_v, "severity")?;
    let severity = parse_severity(&sev).ok_or_else(|| {
        cx.err(
            sev_v.span().start,
            Some("severity".into()),
            format!("unknown severity `{sev}`; severities are info, low, medium, high, critical"),
        )
    })?;
    let from = selectors(cx, required(cx, start, &raw.from, "from")?, "from")?;
    let to = selectors(cx, required(cx, start, &raw.to, "to")?, "to")?;
    let mut protocols = protocols(cx, &raw)?;
    let port_list = match &raw.ports {
        Some(v) => ports(cx, v)?,
        None => Vec::new(),
    };
    if !port_list.is_empty() {
        match &protocols {
            // Ports mean TCP and UDP unless the protocol says which.
            None => protocols = Some(vec![Protocol::TCP, Protocol::UDP]),
            Some(ps)
                if ps
                    .iter()
                    .any(|p| *p != Protocol::TCP && *p != Protocol::UDP) =>
            {
                let v = raw.ports.as_ref().expect("ports given");
                return Err(cx.err(
                    v.span().start,
                    Some("ports".into()),
                    "ports apply to tcp and udp only".into(),
                ));
            }
            _ => {}
        }
    }
    if kind == Kind::AllowOnly {
        if let Some(v) = &raw.from {
            if from.iter().all(|s| matches!(s, Selector::Not(_))) {
                return Err(cx.err(
                    v.span().start,
                    Some("from".into()),
                    "allow-only needs the sources that are allowed, not only exclusions".into(),
                ));
            }
        }
    }
    let (line, _) = line_col(cx.text, start);
    Ok(Policy {
        id,
        kind,
        description,
        severity,
        file: cx.file.to_string(),
        line,
        body: Body::Reach {
            from,
            to,
            traffic: TrafficSpec {
                protocols,
                ports: port_list,
            },
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(text: &str) -> PolicyError {
        parse("p.toml", text).unwrap_err()
    }

    const OK: &str = r#"
[[policy]]
id = "no-ssh"
kind = "deny"
description = "no SSH from the internet"
severity = "high"
from = "internet"
to = ["*", "!kind:elb"]
ports = [22, "2222-2223"]
"#;

    #[test]
    fn a_policy_parses() {
        let ps = parse("p.toml", OK).unwrap();
        assert_eq!(ps.len(), 1);
        assert_eq!(ps[0].id, "no-ssh");
        assert_eq!(ps[0].line, 2);
        let Body::Reach { traffic, to, .. } = &ps[0].body else {
            panic!("a reach policy")
        };
        assert_eq!(traffic.ports, vec![(22, 22), (2222, 2223)]);
        assert_eq!(traffic.protocols, Some(vec![6, 17]));
        assert_eq!(to.len(), 2);
    }

    #[test]
    fn errors_name_file_line_and_field() {
        let e = err(&OK.replace("ports = [22, \"2222-2223\"]", "ports = [22, 70000]"));
        assert_eq!(
            (e.file.as_str(), e.line, e.field.as_deref()),
            ("p.toml", 9, Some("ports"))
        );
        assert!(e.message.contains("70000"), "{e}");

        let e = err(&OK.replace("kind = \"deny\"", "kind = \"forbid\""));
        assert_eq!((e.line, e.field.as_deref()), (4, Some("kind")));

        let e = err(&OK.replace("severity = \"high\"", "sevrity = \"high\""));
        assert_eq!((e.line, e.field.as_deref()), (6, Some("sevrity")));

        let e = err(&OK.replace("severity = \"high\"\n", ""));
        assert_eq!((e.line, e.field.as_deref()), (2, Some("severity")));

        let e = err(&OK.replace("from = \"internet\"", "from = 5"));
        assert_eq!((e.line, e.field.as_deref()), (7, Some("from")));

        let e = err(&OK.replace("!kind:elb", "knd:elb"));
        assert_eq!((e.line, e.field.as_deref()), (8, Some("to")));
        assert!(e.to_string().starts_with("p.toml:8:"), "{e}");

        // Empty lists check nothing (or, for ports, everything): refused like `from = []`.
        for (field, replacement) in [
            ("from", "from = []"),
            ("protocol", "from = \"internet\"\nprotocol = []"),
            ("protocols", "from = \"internet\"\nprotocols = []"),
        ] {
            let e = err(&OK.replace("from = \"internet\"", replacement));
            assert_eq!(e.field.as_deref(), Some(field), "{e}");
            assert!(e.message.contains("empty list"), "{e}");
        }
        let e = err(&OK.replace("ports = [22, \"2222-2223\"]", "ports = []"));
        assert_eq!((e.line, e.field.as_deref()), (9, Some("ports")));
        assert!(e.message.contains("empty list names no port"), "{e}");
    }
}
