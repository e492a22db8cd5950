//! Baselines: violations and findings a team has accepted, each with a reason and
//! optionally an expiry date.
//!
//! An entry matches by fingerprint. A violation's fingerprint covers the policy id, the
//! source, the destination, the protocols and ports that get through and the entry point,
//! so a changed port or a new way in is a new violation. From its `expires` date on, an
//! entry no longer suppresses anything: the violation fails the gate again.
//!
//! ```toml
//! version = 1
//!
//! [[accepted]]
//! fingerprint = "3f6c0d2a9b1e4c77"
//! policy = "no-admin-ports-from-internet"
//! source = "internet"
//! destination = "eni-0a1b2c3d4e5f60003"
//! traffic = "tcp 22"
//! entry = "direct"
//! reason = "bastion until SSM Session Manager is rolled out (OPS-123)"
//! expires = 2026-06-30
//! ```

use serde::Deserialize;
use toml::Spanned;

use super::{line_col, severity_name, traffic_text, CheckReport, PolicyError};

/// A calendar date (expiry dates, today's date).
pub type Date = time::Date;

/// Parses `YYYY-MM-DD`.
pub fn parse_date(s: &str) -> Option<Date> {
    let mut it = s.trim().splitn(3, '-');
    let y: i32 = it.next()?.parse().ok()?;
    let m: u8 = it.next()?.parse().ok()?;
    let d: u8 = it.next()?.parse().ok()?;
    Date::from_calendar_date(y, time::Month::try_from(m).ok()?, d).ok()
}

/// `YYYY-MM-DD`.
pub fn format_date(d: Date) -> String {
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

/// Why an accepted item is accepted, and until when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Suppression {
    /// The reason.
    pub reason: String,
    /// The day it stops applying.
    pub expires: Option<Date>,
}

/// One accepted violation or finding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The fingerprint it matches.
    pub fingerprint: String,
    /// The policy id, for a violation.
    pub policy: Option<String>,
    /// The finding code, for a finding.
    pub finding: Option<String>,
    /// Source (violations), for people.
    pub source: Option<String>,
    /// Destination (violations), for people.
    pub destination: Option<String>,
    /// Traffic (violations), for people.
    pub traffic: Option<String>,
    /// Entry point (violations), for people.
    pub entry: Option<String>,
    /// Resources (findings), for people.
    pub resources: Vec<String>,
    /// Why it is accepted.
    pub reason: String,
    /// The day it stops applying.
    pub expires: Option<Date>,
}

impl Entry {
    /// Its suppression.
    pub fn suppression(&self) -> Suppression {
        Suppression {
            reason: self.reason.clone(),
            expires: self.expires,
        }
    }
}

/// A baseline file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Baseline {
    /// Entries, in file order.
    pub entries: Vec<Entry>,
}

impl Baseline {
    /// The entry for a fingerprint.
    pub fn get(&self, fingerprint: &str) -> Option<&Entry> {
        self.entries.iter().find(|e| e.fingerprint == fingerprint)
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    version: Option<Spanned<toml::Value>>,
    #[serde(default)]
    accepted: Vec<Spanned<RawEntry>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEntry {
    fingerprint: Option<Spanned<toml::Value>>,
    policy: Option<Spanned<toml::Value>>,
    finding: Option<Spanned<toml::Value>>,
    source: Option<Spanned<toml::Value>>,
    destination: Option<Spanned<toml::Value>>,
    traffic: Option<Spanned<toml::Value>>,
    entry: Option<Spanned<toml::Value>>,
    resources: Option<Spanned<toml::Value>>,
    reason: Option<Spanned<toml::Value>>,
    expires: Option<Spanned<toml::Value>>,
}

/// Parses a baseline file; errors name the file, line and field.
pub fn parse(file: &str, text: &str) -> Result<Baseline, PolicyError> {
    let err = |offset: usize, field: Option<String>, message: String| {
        let (line, column) = line_col(text, offset);
        PolicyError {
            file: file.to_string(),
            line,
            column,
            field,
            message,
        }
    };
    let raw: RawFile = toml::from_str(text).map_err(|e| {
        let msg = e.message().to_string();
        let field = (msg.starts_with("unknown field") || msg.starts_with("missing field"))
            .then(|| msg.split('`').nth(1).map(str::to_string))
            .flatten();
        err(e.span().map(|s| s.start).unwrap_or(0), field, msg)
    })?;
    if let Some(v) = &raw.version {
        if v.get_ref().as_integer() != Some(1) {
            return Err(err(
                v.span().start,
                Some("version".into()),
                "this exposure reads baseline version 1".into(),
            ));
        }
    }
    let string =
        |v: &Option<Spanned<toml::Value>>, name: &str| -> Result<Option<String>, PolicyError> {
            match v {
                None => Ok(None),
                Some(s) => match s.get_ref() {
                    toml::Value::String(x) => Ok(Some(x.clone())),
                    other => Err(err(
                        s.span().start,
                        Some(name.into()),
                        format!("expected a string, found {}", other.type_str()),
                    )),
                },
            }
        };
    let mut entries = Vec::new();
    for e in raw.accepted {
        let start = e.span().start;
        let e = e.into_inner();
        let fingerprint = string(&e.fingerprint, "fingerprint")?.ok_or_else(|| {
            err(
                start,
                Some("fingerprint".into()),
                "missing field `fingerprint` in this [[accepted]]".into(),
            )
        })?;
        let reason = string(&e.reason, "reason")?.unwrap_or_default();
        if reason.trim().is_empty() {
            let at = e.reason.as_ref().map(|r| r.span().start).unwrap_or(start);
            return Err(err(
                at,
                Some("reason".into()),
                "every accepted item needs a `reason` saying why it is accepted".into(),
            ));
        }
        let expires = match &e.expires {
            None => None,
            Some(v) => {
                let text = match v.get_ref() {
                    toml::Value::Datetime(dt) => match (dt.date, dt.time) {
                        (Some(d), None) => {
                            Some(format!("{:04}-{:02}-{:02}", d.year, d.month, d.day))
                        }
                        _ => None,
                    },
                    toml::Value::String(s) => Some(s.clone()),
                    _ => None,
                };
                match text.as_deref().and_then(parse_date) {
                    Some(d) => Some(d),
                    None => {
                        return Err(err(
                            v.span().start,
                            Some("expires".into()),
                            "expected a date YYYY-MM-DD".into(),
                        ))
                    }
                }
            }
        };
        let resources = match &e.resources {
            None => Vec::new(),
            Some(v) => match v.get_ref() {
                toml::Value::Array(a) => a
                    .iter()
                    .map(|x| {
                        x.as_str()
                            .map(str::to_string)
                            .unwrap_or_else(|| x.to_string())
                    })
                    .collect(),
                _ => {
                    return Err(err(
                        v.span().start,
                        Some("resources".into()),
                        "expected an array of strings".into(),
                    ))
                }
            },
        };
        entries.push(Entry {
            fingerprint,
            policy: string(&e.policy, "policy")?,
            finding: string(&e.finding, "finding")?,
            source: string(&e.source, "source")?,
            destination: string(&e.destination, "destination")?,
            traffic: string(&e.traffic, "traffic")?,
            entry: string(&e.entry, "entry")?,
            resources,
            reason,
            expires,
        });
    }
    Ok(Baseline { entries })
}

fn q(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}

/// A baseline that accepts every violation and gated finding of a check. Entries that
/// were already in `previous` keep their reason and expiry.
pub fn record(report: &CheckReport, previous: Option<&Baseline>, today: Date) -> Baseline {
    let keep = |fp: &str| previous.and_then(|b| b.get(fp));
    let default_reason = format!(
        "accepted on {} by --write-baseline: replace with why this is acceptable",
        format_date(today)
    );
    let mut entries = Vec::new();
    for v in &report.violations {
        let v = &v.violation;
        let old = keep(&v.fingerprint);
        entries.push(Entry {
            fingerprint: v.fingerprint.clone(),
            policy: Some(v.policy.clone()),
            finding: None,
            source: Some(v.source.id.clone()),
            destination: Some(v.destination.id.clone()),
            traffic: Some(traffic_text(&v.traffic)),
            entry: Some(v.entry.clone()),
            resources: Vec::new(),
            reason: old
                .map(|e| e.reason.clone())
                .unwrap_or_else(|| default_reason.clone()),
            expires: old.and_then(|e| e.expires),
        });
    }
    for f in &report.findings {
        let old = keep(&f.fingerprint);
        entries.push(Entry {
            fingerprint: f.fingerprint.clone(),
            policy: None,
            finding: Some(f.finding.code.to_string()),
            source: None,
            destination: None,
            traffic: None,
            entry: None,
            resources: f.finding.resources.clone(),
            reason: old.map(|e| e.reason.clone()).unwrap_or_else(|| {
                format!("{default_reason} ({})", severity_name(f.finding.severity))
            }),
            expires: old.and_then(|e| e.expires),
        });
    }
    Baseline { entries }
}

/// The baseline as TOML text.
pub fn to_toml(b: &Baseline) -> String {
    let mut out = String::from(
        "# exposure baseline: accepted policy violations and findings.\n\
         # `exposure check --baseline FILE` does not fail on these. An entry matches by fingerprint\n\
         # (policy, source, destination, protocols/ports, entry point): a changed port or a new way in\n\
         # is a new violation. Each entry needs a `reason`; from its `expires` date (YYYY-MM-DD) on,\n\
         # it no longer applies.\nversion = 1\n",
    );
    for e in &b.entries {
        out.push_str("\n[[accepted]]\n");
        out.push_str(&format!("fingerprint = {}\n", q(&e.fingerprint)));
        let fields = [
            ("policy", &e.policy),
            ("finding", &e.finding),
            ("source", &e.source),
            ("destination", &e.destination),
            ("traffic", &e.traffic),
            ("entry", &e.entry),
        ];
        for (k, v) in fields {
            if let Some(v) = v {
                out.push_str(&format!("{k} = {}\n", q(v)));
            }
        }
        if !e.resources.is_empty() {
            let list: Vec<String> = e.resources.iter().map(|r| q(r)).collect();
            out.push_str(&format!("resources = [{}]\n", list.join(", ")));
        }
        out.push_str(&format!("reason = {}\n", q(&e.reason)));
        if let Some(d) = e.expires {
            out.push_str(&format!("expires = {}\n", format_date(d)));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_errors() {
        let b = Baseline {
            entries: vec![Entry {
                fingerprint: "00ff".into(),
                policy: Some("p".into()),
                finding: None,
                source: Some("internet".into()),
                destination: Some("eni-1".into()),
                traffic: Some("tcp 22".into()),
                entry: Some("direct".into()),
                resources: Vec::new(),
                reason: "because \"ops\" said so".into(),
                expires: parse_date("2030-01-31"),
            }],
        };
        let text = to_toml(&b);
        assert_eq!(parse("b.toml", &text).unwrap(), b);

        let e = parse("b.toml", &text.replace("reason = ", "# reason = ")).unwrap_err();
        assert_eq!(e.field.as_deref(), Some("reason"));
        let e = parse("b.toml", &text.replace("2030-01-31", "\"31/01/2030\"")).unwrap_err();
        assert_eq!(e.field.as_deref(), Some("expires"));
        assert!(e.to_string().starts_with("b.toml:"), "{e}");
        assert!(parse_date("2030-02-30").is_none());
    }
}
