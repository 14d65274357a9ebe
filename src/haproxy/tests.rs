use super::*;

const SANDBOX: &str = include_str!("../../tests/fixtures/haproxy/sandbox.csv");
const LEGENDS: &str = include_str!("../../tests/fixtures/haproxy/sandbox-legends.csv");
const MAINT: &str = include_str!("../../tests/fixtures/haproxy/sandbox-maint.csv");

fn proxy<'a>(s: &'a Stats, name: &str) -> &'a Proxy {
    s.proxies
        .iter()
        .find(|p| p.name == name)
        .unwrap_or_else(|| panic!("no proxy {name} in {s:?}"))
}

#[test]
fn the_sandbox_csv_as_haproxy_2_6_wrote_it() {
    let s = parse_csv(SANDBOX.as_bytes()).expect("parses");
    let names: Vec<&str> = s.proxies.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["stats", "rw", "ro"]);
    let rw = proxy(&s, "rw");
    assert_eq!(
        rw.frontend.as_ref().map(|f| f.status.as_str()),
        Some("OPEN")
    );
    assert_eq!(rw.backend.as_ref().map(|f| f.status.as_str()), Some("UP"));
    let st: Vec<(&str, ServerStatus, Option<&str>)> = rw
        .servers
        .iter()
        .map(|v| (v.name.as_str(), v.status, v.addr.as_deref()))
        .collect();
    assert_eq!(
        st,
        [
            ("pg1", ServerStatus::Up, None),
            ("pg2", ServerStatus::Down, None),
            ("pg3", ServerStatus::Down, None),
        ]
    );
    // the page shows the servers' addresses only with `stats show-legends`
    let s2 = parse_csv(LEGENDS.as_bytes()).expect("parses");
    let addrs: Vec<Option<&str>> = proxy(&s2, "rw")
        .servers
        .iter()
        .map(|v| v.addr.as_deref())
        .collect();
    assert_eq!(
        addrs,
        [
            Some("127.0.0.1:41021"),
            Some("127.0.0.1:41022"),
            Some("127.0.0.1:41023")
        ]
    );
    let pg2 = &rw.servers[1];
    assert_eq!(pg2.check_status, "L7STS");
    assert_eq!(pg2.check_code, Some(503));
    assert_eq!(pg2.check_desc, "Layer7 wrong status");
    assert_eq!((pg2.rise, pg2.fall), (Some(2), Some(2)));
    assert_eq!(pg2.sessions, Some(0));
    assert!(!pg2.backup);
    let ro = proxy(&s, "ro");
    let up: Vec<&str> = ro
        .servers
        .iter()
        .filter(|v| v.status.routes())
        .map(|v| v.name.as_str())
        .collect();
    assert_eq!(up, ["pg2", "pg3"]);
    // `UP 1/2`: one failed check of the two that take it down; it still routes
    assert_eq!(ro.servers[2].transition, Some((1, 2)));
}

#[test]
fn a_server_put_into_maint_reads_maint() {
    let s = parse_csv(MAINT.as_bytes()).expect("parses");
    let ro = proxy(&s, "ro");
    let pg3 = ro.servers.iter().find(|v| v.name == "pg3").expect("pg3");
    assert_eq!(pg3.status, ServerStatus::Maint);
    assert!(!pg3.status.routes());
}

#[test]
fn statuses_in_transition_and_the_rare_ones() {
    assert_eq!(server_status("UP 1/2"), (ServerStatus::Up, Some((1, 2))));
    assert_eq!(
        server_status("DOWN 1/2"),
        (ServerStatus::Down, Some((1, 2)))
    );
    assert_eq!(server_status("MAINT(via)"), (ServerStatus::Maint, None));
    assert_eq!(server_status("MAINT (resolution)").0, ServerStatus::Maint);
    assert_eq!(server_status("DRAIN").0, ServerStatus::Drain);
    assert_eq!(server_status("NOLB").0, ServerStatus::Nolb);
    assert_eq!(server_status("no check").0, ServerStatus::NoCheck);
    assert_eq!(server_status("weird").0, ServerStatus::Unknown);
    assert!(ServerStatus::NoCheck.routes() && !ServerStatus::Drain.routes());
}

#[test]
fn quoted_fields_and_hostile_strings() {
    let csv = "# pxname,svname,status,check_desc,addr\n\
               \"a,b\",\"s\"\"1\",UP,\"\x1b[2Jdesc, with comma\",10.0.0.1:5432\n";
    let s = parse_csv(csv.as_bytes()).expect("parses");
    assert_eq!(s.proxies[0].name, "a,b");
    let v = &s.proxies[0].servers[0];
    assert_eq!(v.name, "s\"1");
    assert!(!v.check_desc.contains('\x1b'), "{:?}", v.check_desc);
    assert!(
        v.check_desc.ends_with("desc, with comma"),
        "{:?}",
        v.check_desc
    );
    // a field is cut, whatever its length
    let long = "x".repeat(10_000);
    let csv = format!("# pxname,svname,status\np,{long},UP\n");
    let s = parse_csv(csv.as_bytes()).expect("parses");
    assert_eq!(s.proxies[0].servers[0].name.chars().count(), MAX_FIELD);
}

#[test]
fn bounded_and_refused() {
    assert_eq!(
        parse_csv(b"<html>hello</html>"),
        Err(CsvError::NoHeader),
        "an HTML stats page (the URL without ;csv) is not CSV"
    );
    assert_eq!(
        parse_csv(b"# svname,status\n"),
        Err(CsvError::Missing("pxname"))
    );
    let big = vec![b'a'; MAX_CSV + 1];
    assert_eq!(parse_csv(&big), Err(CsvError::TooLarge(MAX_CSV + 1)));
    let mut csv = String::from("# pxname,svname,status\n");
    for i in 0..MAX_ROWS + 5 {
        csv.push_str(&format!("p,s{i},UP\n"));
    }
    let s = parse_csv(csv.as_bytes()).expect("parses");
    assert_eq!(s.proxies[0].servers.len(), MAX_ROWS);
    assert_eq!(s.dropped, 5);
}

#[test]
fn specs_from_the_command_line() {
    let s = HaproxySpec::parse(
        "http://10.0.0.5:7000/,name=lb1,rw=pg_rw,ro=pg_ro,rw_address=10.0.0.5:5000,inter=1s",
    )
    .expect("parses");
    assert_eq!(s.endpoint, Endpoint::Url("http://10.0.0.5:7000/".into()));
    assert_eq!(s.name, "lb1");
    assert_eq!(s.rw.as_deref(), Some("pg_rw"));
    assert_eq!(s.ro, ["pg_ro"]);
    assert_eq!(s.rw_address.as_deref(), Some("10.0.0.5:5000"));
    assert_eq!(s.inter, Duration::from_secs(1));
    let s = HaproxySpec::parse("/run/haproxy/admin.sock").expect("parses");
    assert_eq!(s.name, "/run/haproxy/admin.sock");
    assert_eq!(
        HaproxySpec::parse("http://h:7000").expect("url").name,
        "h:7000"
    );
    // a stats page behind basic auth: the name never carries the password
    let s = HaproxySpec::parse("http://admin:s3cret@h:7000/stats").expect("url");
    assert_eq!(s.name, "h:7000");
    assert!(HaproxySpec::parse("h:7000").is_err());
    assert!(HaproxySpec::parse("http://h:7000,colour=red").is_err());
    assert!(HaproxySpec::parse("http://h:7000,rw_address=h").is_err());
}
