//! Snapshot file names: templates with placeholders, and node-heapdump's default.

use std::fmt;
use std::sync::OnceLock;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Values the placeholders of a template expand to.
#[derive(Debug, Clone, Copy)]
pub struct NameVars<'a> {
    pub pid: u32,
    /// `worker_threads.threadId`: 0 on the main thread.
    pub tid: u32,
    /// Per-process snapshot counter.
    pub seq: u64,
    pub time: SystemTime,
    /// The machine's name (in Kubernetes, the pod's), see [`hostname`].
    pub hostname: &'a str,
    /// What asked for the snapshot: `api`, `signal`, `threshold`, `near-limit`, `timer`.
    pub trigger: &'a str,
}

/// A template named a placeholder that does not exist or was left open.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateError {
    pub template: String,
    pub problem: String,
}

impl fmt::Display for TemplateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "filename template {:?}: {} (known: {{pid}} {{tid}} {{seq}} {{date}} {{hostname}} {{trigger}})",
            self.template, self.problem
        )
    }
}

impl std::error::Error for TemplateError {}

/// Expands `{pid}`, `{tid}`, `{seq}`, `{date}` (UTC, `20261121T033105Z`),
/// `{hostname}` and `{trigger}`.
pub fn expand(template: &str, vars: &NameVars) -> Result<String, TemplateError> {
    let mut out = String::with_capacity(template.len() + 16);
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let close = after.find('}').ok_or_else(|| TemplateError {
            template: template.to_string(),
            problem: format!("unclosed '{{' at byte {}", template.len() - rest.len() + open),
        })?;
        match &after[..close] {
            "pid" => out.push_str(&vars.pid.to_string()),
            "tid" => out.push_str(&vars.tid.to_string()),
            "seq" => out.push_str(&vars.seq.to_string()),
            "date" => out.push_str(&utc_stamp(vars.time)),
            "hostname" => out.push_str(vars.hostname),
            "trigger" => out.push_str(vars.trigger),
            other => {
                return Err(TemplateError {
                    template: template.to_string(),
                    problem: format!("unknown placeholder {{{other}}}"),
                })
            }
        }
        rest = &after[close + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

/// This machine's name as the kernel has it for this process's UTS
/// namespace (a container's or pod's own), made safe in a file name: any
/// byte but letters, digits, `.`, `-` and `_` becomes `_`. Read once.
pub fn hostname() -> &'static str {
    static NAME: OnceLock<String> = OnceLock::new();
    NAME.get_or_init(|| {
        let name = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_default();
        file_safe(name.trim())
    })
}

fn file_safe(name: &str) -> String {
    let safe: String =
        name.chars().map(|c| if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') { c } else { '_' }).collect();
    match safe.as_str() {
        "" | "." | ".." => "localhost".to_string(),
        _ => safe,
    }
}

/// node-heapdump's default name: `heapdump-<sec>.<usec>.heapsnapshot`.
pub fn heapdump_default(time: SystemTime) -> String {
    let since = time.duration_since(UNIX_EPOCH).unwrap_or(Duration::ZERO);
    format!("heapdump-{}.{}.heapsnapshot", since.as_secs(), since.subsec_micros())
}

/// `YYYYMMDDTHHMMSSZ`: sorts by time, safe in file names, unambiguous.
pub fn utc_stamp(time: SystemTime) -> String {
    let secs = time.duration_since(UNIX_EPOCH).unwrap_or(Duration::ZERO).as_secs();
    let (days, rem) = (secs / 86_400, secs % 86_400);
    let (y, m, d) = civil_from_days(days as i64);
    format!("{y:04}{m:02}{d:02}T{:02}{:02}{:02}Z", rem / 3600, rem % 3600 / 60, rem % 60)
}

/// Gregorian date of a day count since 1970-01-01 (Howard Hinnant's algorithm).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(secs: u64) -> NameVars<'static> {
        NameVars {
            pid: 42,
            tid: 3,
            seq: 7,
            time: UNIX_EPOCH + Duration::from_secs(secs),
            hostname: "api-7d9f-x2",
            trigger: "signal",
        }
    }

    #[test]
    fn expands_every_placeholder() {
        // 2026-11-21 03:31:05 UTC
        let template = "{hostname}-{trigger}-{pid}-{tid}-{seq}-{date}.heapsnapshot";
        let name = expand(template, &vars(1_795_231_865)).unwrap();
        assert_eq!(name, "api-7d9f-x2-signal-42-3-7-20261121T033105Z.heapsnapshot");
    }

    #[test]
    fn host_names_are_made_safe_in_file_names() {
        assert_eq!(file_safe("api-7d9f.cluster_1"), "api-7d9f.cluster_1");
        assert_eq!(file_safe("a/b c\u{e9}"), "a_b_c_");
        assert_eq!(file_safe(".."), "localhost");
        assert_eq!(file_safe(""), "localhost");
        assert!(!hostname().is_empty() && !hostname().contains('/'));
    }

    #[test]
    fn dates_cross_leap_years_and_epoch() {
        assert_eq!(utc_stamp(UNIX_EPOCH), "19700101T000000Z");
        assert_eq!(utc_stamp(UNIX_EPOCH + Duration::from_secs(951_782_400)), "20000229T000000Z");
        assert_eq!(utc_stamp(UNIX_EPOCH + Duration::from_secs(4_107_542_399)), "21000228T235959Z");
    }

    #[test]
    fn rejects_unknown_and_unclosed_placeholders() {
        let err = expand("a-{host}", &vars(0)).unwrap_err();
        assert!(err.to_string().contains("unknown placeholder {host}"), "{err}");
        assert!(err.to_string().contains("{hostname} {trigger}"), "{err}");
        let err = expand("ab{pid", &vars(0)).unwrap_err();
        assert!(err.to_string().contains("unclosed '{' at byte 2"), "{err}");
    }

    #[test]
    fn heapdump_default_has_seconds_and_microseconds() {
        let t = UNIX_EPOCH + Duration::new(1_700_000_000, 123_456_789);
        assert_eq!(heapdump_default(t), "heapdump-1700000000.123456.heapsnapshot");
    }
}
