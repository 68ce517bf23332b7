//! `-u USER[:GROUP]` resolved against the image's /etc/passwd and /etc/group, as Docker does.

use crate::error::{Error, Result};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedUser {
    pub uid: u32,
    pub gid: u32,
    pub additional_gids: Vec<u32>,
    pub home: String,
}

struct PasswdEntry {
    name: String,
    uid: u32,
    gid: u32,
    home: String,
}

fn parse_passwd(text: &str) -> Vec<PasswdEntry> {
    text.lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split(':').collect();
            if f.len() < 7 {
                return None;
            }
            Some(PasswdEntry {
                name: f[0].to_string(),
                uid: f[2].parse().ok()?,
                gid: f[3].parse().ok()?,
                home: f[5].to_string(),
            })
        })
        .collect()
}

/// (name, gid, members)
fn parse_group(text: &str) -> Vec<(String, u32, Vec<String>)> {
    text.lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split(':').collect();
            if f.len() < 4 {
                return None;
            }
            let members = f[3]
                .split(',')
                .filter(|m| !m.is_empty())
                .map(String::from)
                .collect();
            Some((f[0].to_string(), f[2].parse().ok()?, members))
        })
        .collect()
}

/// Resolves `spec` (None: the image's default, root) with the image's passwd and group files.
pub fn resolve_user(
    spec: Option<&str>,
    passwd: Option<&str>,
    group: Option<&str>,
) -> Result<ResolvedUser> {
    let users = parse_passwd(passwd.unwrap_or(""));
    let groups = parse_group(group.unwrap_or(""));
    let spec = spec.filter(|s| !s.is_empty()).unwrap_or("0");
    let (user_part, group_part) = match spec.split_once(':') {
        Some((u, g)) => (u, Some(g)),
        None => (spec, None),
    };
    let (uid, entry) =
        match user_part.parse::<u32>() {
            Ok(uid) => (uid, users.iter().find(|u| u.uid == uid)),
            Err(_) => {
                let e = users.iter().find(|u| u.name == user_part).ok_or_else(|| {
                    Error::NoSuchUser {
                        name: user_part.to_string(),
                    }
                })?;
                (e.uid, Some(e))
            }
        };
    let gid = match group_part {
        None => entry.map_or(0, |e| e.gid),
        Some(g) => group_id(&groups, g)?,
    };
    // The primary group is listed too, as Docker does (`id` shows groups=GID).
    let mut additional_gids = vec![gid];
    if let (Some(e), None) = (entry, group_part) {
        for (_, g, members) in &groups {
            if members.contains(&e.name) && !additional_gids.contains(g) {
                additional_gids.push(*g);
            }
        }
    }
    Ok(ResolvedUser {
        uid,
        gid,
        additional_gids,
        home: entry.map_or_else(|| "/".to_string(), |e| e.home.clone()),
    })
}

/// `--group-add` values (numbers, or names in the image's /etc/group) as gids.
pub fn resolve_groups(names: &[String], group: Option<&str>) -> Result<Vec<u32>> {
    let groups = parse_group(group.unwrap_or(""));
    names.iter().map(|g| group_id(&groups, g)).collect()
}

/// A group by number, or by name in the image's /etc/group.
fn group_id(groups: &[(String, u32, Vec<String>)], group: &str) -> Result<u32> {
    if let Ok(gid) = group.parse::<u32>() {
        return Ok(gid);
    }
    groups
        .iter()
        .find(|(name, _, _)| name == group)
        .map(|(_, gid, _)| *gid)
        .ok_or_else(|| Error::NoSuchGroup {
            name: group.to_string(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    const PASSWD: &str = "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/home:/bin/false\nalice:x:1000:1000::/home/alice:/bin/sh\n";
    const GROUP: &str = "root:x:0:\nwheel:x:10:alice\nalice:x:1000:\nnogroup:x:65534:\n";

    #[test]
    fn resolves_names_numbers_and_groups() {
        let r = resolve_user(None, Some(PASSWD), Some(GROUP)).unwrap();
        assert_eq!((r.uid, r.gid, r.home.as_str()), (0, 0, "/root"));
        let r = resolve_user(Some("alice"), Some(PASSWD), Some(GROUP)).unwrap();
        assert_eq!(
            (r.uid, r.gid, r.additional_gids.clone()),
            (1000, 1000, vec![1000, 10])
        );
        let r = resolve_user(Some("1000:wheel"), Some(PASSWD), Some(GROUP)).unwrap();
        assert_eq!((r.uid, r.gid), (1000, 10));
        let r = resolve_user(Some("4242"), Some(PASSWD), Some(GROUP)).unwrap();
        assert_eq!((r.uid, r.gid, r.home.as_str()), (4242, 0, "/"));
        let r = resolve_user(Some("4242:4343"), None, None).unwrap();
        assert_eq!((r.uid, r.gid), (4242, 4343));
        assert!(resolve_user(Some("bob"), Some(PASSWD), Some(GROUP)).is_err());
        assert!(resolve_user(Some("alice:nosuch"), Some(PASSWD), Some(GROUP)).is_err());
    }
}
