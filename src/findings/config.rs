//! Settings for the checks: severity overrides and suppression per code, and
//! what counts as a wide CIDR. The CLI reads them from `exposure.toml` (this
//! module only parses the text; reading the file is the CLI's I/O) and may
//! add flags on top with [`Config::set_severity`] and [`Config::suppress_code`].
//!
//! ```toml
//! wide_prefix_v4 = 16
//! wide_prefix_v6 = 48
//! suppress = ["sg-unused"]
//!
//! [severity]
//! sg-open-to-world = "low"
//! ```
//!
//! Every error names the offending key, and unknown keys and codes are errors
//! rather than silently ignored: a misspelt suppression would otherwise hide nothing.

use std::collections::{BTreeMap, BTreeSet};

use super::{registry, rule, Severity};

/// Settings for the checks (from `exposure.toml` and flags).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// Severity per code; replaces the computed severity of every finding with that code.
    pub severity: BTreeMap<String, Severity>,
    /// Codes whose findings are dropped.
    pub suppress: BTreeSet<String>,
    /// IPv4 CIDRs with a prefix shorter than this are "wide" (0 turns the check off).
    pub wide_prefix_v4: u8,
    /// IPv6 CIDRs with a prefix shorter than this are "wide" (0 turns the check off).
    pub wide_prefix_v6: u8,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            severity: BTreeMap::new(),
            suppress: BTreeSet::new(),
            // A /16 is a whole VPC; anything wider spans networks nobody owns alone.
            wide_prefix_v4: 16,
            // A /48 is one site's allocation; a VPC's own block is a /56.
            wide_prefix_v6: 48,
        }
    }
}

const KEYS: &str = "severity, suppress, wide_prefix_v4, wide_prefix_v6";

fn known_code(key: &str, code: &str) -> Result<(), String> {
    if rule(code).is_some() {
        return Ok(());
    }
    let codes: Vec<&str> = registry().iter().map(|r| r.code).collect();
    Err(format!(
        "`{key}`: unknown finding code `{code}` (known codes: {})",
        codes.join(", ")
    ))
}

fn severity_value(key: &str, value: &str) -> Result<Severity, String> {
    Severity::parse(value).ok_or_else(|| {
        format!(
            "`{key}`: unknown severity `{value}` (expected info, low, medium, high or critical)"
        )
    })
}

fn prefix(key: &str, value: &toml::Value, max: u8) -> Result<u8, String> {
    match value.as_integer() {
        Some(n) if (0..=i64::from(max)).contains(&n) => Ok(n as u8),
        Some(n) => Err(format!("`{key}`: {n} is not a prefix length 0-{max}")),
        None => Err(format!(
            "`{key}`: expected an integer prefix length 0-{max}, found {}",
            value.type_str()
        )),
    }
}

impl Config {
    /// Parses `exposure.toml` text. Missing keys keep their defaults.
    pub fn from_toml(text: &str) -> Result<Config, String> {
        let table: toml::Table = text
            .parse()
            .map_err(|e: toml::de::Error| format!("invalid TOML: {}", e.to_string().trim_end()))?;
        let mut cfg = Config::default();
        for (key, value) in &table {
            match key.as_str() {
                "severity" => {
                    let Some(t) = value.as_table() else {
                        return Err(format!(
                            "`severity`: expected a table of code = \"level\", found {}",
                            value.type_str()
                        ));
                    };
                    for (code, level) in t {
                        let key = format!("severity.{code}");
                        known_code(&key, code)?;
                        let Some(level) = level.as_str() else {
                            return Err(format!(
                                "`{key}`: expected a severity string, found {}",
                                level.type_str()
                            ));
                        };
                        cfg.severity
                            .insert(code.clone(), severity_value(&key, level)?);
                    }
                }
                "suppress" => {
                    let Some(items) = value.as_array() else {
                        return Err(format!(
                            "`suppress`: expected an array of finding codes, found {}",
                            value.type_str()
                        ));
                    };
                    for (i, item) in items.iter().enumerate() {
                        let key = format!("suppress[{i}]");
                        let Some(code) = item.as_str() else {
                            return Err(format!(
                                "`{key}`: expected a finding code string, found {}",
                                item.type_str()
                            ));
                        };
                        known_code(&key, code)?;
                        cfg.suppress.insert(code.to_string());
                    }
                }
                "wide_prefix_v4" => cfg.wide_prefix_v4 = prefix(key, value, 32)?,
                "wide_prefix_v6" => cfg.wide_prefix_v6 = prefix(key, value, 128)?,
                other => {
                    return Err(format!("`{other}`: unknown setting (known: {KEYS})"));
                }
            }
        }
        Ok(cfg)
    }

    /// Overrides the severity of one code (a `--severity CODE=LEVEL` flag).
    pub fn set_severity(&mut self, code: &str, level: &str) -> Result<(), String> {
        known_code(code, code)?;
        let s = severity_value(code, level)?;
        self.severity.insert(code.to_string(), s);
        Ok(())
    }

    /// Suppresses one code (a `--suppress CODE` flag).
    pub fn suppress_code(&mut self, code: &str) -> Result<(), String> {
        known_code(code, code)?;
        self.suppress.insert(code.to_string());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_text_gives_the_defaults() {
        let cfg = Config::from_toml("").unwrap();
        assert_eq!(cfg, Config::default());
        assert_eq!(cfg.wide_prefix_v4, 16);
        assert_eq!(cfg.wide_prefix_v6, 48);
    }

    #[test]
    fn full_example_parses() {
        let cfg = Config::from_toml(
            r#"
wide_prefix_v4 = 20
wide_prefix_v6 = 56
suppress = ["sg-unused", "nacl-rule-shadowed"]

[severity]
sg-open-to-world = "low"
internet-admin-port = "Critical"
"#,
        )
        .unwrap();
        assert_eq!(cfg.wide_prefix_v4, 20);
        assert_eq!(cfg.wide_prefix_v6, 56);
        assert!(cfg.suppress.contains("sg-unused") && cfg.suppress.contains("nacl-rule-shadowed"));
        assert_eq!(cfg.severity["sg-open-to-world"], Severity::Low);
        assert_eq!(cfg.severity["internet-admin-port"], Severity::Critical);
    }

    fn err(text: &str) -> String {
        Config::from_toml(text).unwrap_err()
    }

    #[test]
    fn errors_name_the_key() {
        assert!(err("[severity]\nsg-open-to-wrld = \"low\"").contains("`severity.sg-open-to-wrld`"));
        assert!(err("[severity]\nsg-open-to-world = \"urgent\"")
            .contains("`severity.sg-open-to-world`"));
        assert!(err("[severity]\nsg-open-to-world = 3").contains("`severity.sg-open-to-world`"));
        assert!(err("severity = \"low\"").contains("`severity`"));
        assert!(err("suppress = [\"sg-unused\", \"nope\"]").contains("`suppress[1]`"));
        assert!(err("suppress = \"sg-unused\"").contains("`suppress`"));
        assert!(err("wide_prefix_v4 = 33").contains("`wide_prefix_v4`"));
        assert!(err("wide_prefix_v4 = \"16\"").contains("`wide_prefix_v4`"));
        assert!(err("wide_prefix_v6 = -1").contains("`wide_prefix_v6`"));
        assert!(err("wide_prefix = 16").contains("`wide_prefix`"));
        assert!(err("suppress = [").starts_with("invalid TOML"));
    }

    #[test]
    fn flags_are_checked_like_the_file() {
        let mut cfg = Config::default();
        cfg.set_severity("sg-unused", "medium").unwrap();
        cfg.suppress_code("sg-all-ports").unwrap();
        assert_eq!(cfg.severity["sg-unused"], Severity::Medium);
        assert!(cfg.suppress.contains("sg-all-ports"));
        assert!(cfg
            .set_severity("sg-unusd", "low")
            .unwrap_err()
            .contains("sg-unusd"));
        assert!(cfg.suppress_code("nope").is_err());
    }
}
