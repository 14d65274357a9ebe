use super::*;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/config")
        .join(name)
}

fn load_fixture(name: &str) -> Result<Settings, ConfigError> {
    load(&ConfigSource {
        file: Some(fixture(name)),
        ..Default::default()
    })
}

#[test]
fn full_node_config_with_yaml11_booleans() {
    let s = load_fixture("node_patroni.yml").unwrap();
    assert_eq!(s.scope, "pg-prod");
    assert_eq!(s.namespace, "/db/");
    assert_eq!(s.cluster_prefix(), "/db/pg-prod/");
    assert_eq!(s.dcs.api, DcsApi::V3);
    assert_eq!(
        s.dcs.endpoints,
        vec![
            "http://10.0.0.21:2379",
            "http://10.0.0.22:2379",
            "http://10.0.0.23:2379"
        ]
    );
    assert_eq!(s.dcs.username.as_deref(), Some("root"));
    assert_eq!(
        s.dcs.password.as_ref().map(Secret::expose),
        Some("etcd-secret-456")
    );
    // restapi.authentication is used when there is no ctl section
    assert_eq!(s.rest.username.as_deref(), Some("patroni"));
    assert!(!s.rest.insecure);
}

#[test]
fn secrets_never_in_debug_output() {
    let s = load_fixture("node_patroni.yml").unwrap();
    let dbg = format!("{s:?}");
    for secret in [
        "rest-secret-123",
        "etcd-secret-456",
        "pg-super-789",
        "pg-repl-000",
    ] {
        assert!(!dbg.contains(secret), "{secret} leaked into {dbg}");
    }
}

#[test]
fn hosts_as_comma_string_and_ipv6() {
    let s = load_fixture("hosts_string.yml").unwrap();
    assert_eq!(
        s.dcs.endpoints,
        vec![
            "http://127.0.0.1:2379",
            "http://127.0.0.2:2380",
            "http://[::1]:2379"
        ]
    );
    assert_eq!(s.namespace, "/service/");
}

#[test]
fn single_host_default_port_numeric_scope() {
    let s = load_fixture("single_host.yml").unwrap();
    assert_eq!(s.scope, "1234");
    assert_eq!(s.dcs.endpoints, vec!["http://etcd.local:2379"]);
}

#[test]
fn etcd_v2_url_and_bare_namespace() {
    let s = load_fixture("url_v2.yml").unwrap();
    assert_eq!(s.dcs.api, DcsApi::V2);
    assert_eq!(s.dcs.endpoints, vec!["http://10.1.1.1:2379"]);
    assert_eq!(s.namespace, "/service/");
}

#[test]
fn https_and_certs_ctl_wins_over_restapi() {
    let s = load_fixture("https_certs.yml").unwrap();
    assert_eq!(s.dcs.endpoints, vec!["https://e1:2379", "https://e2:2379"]);
    // relative paths resolve against the config file's directory
    assert_eq!(s.dcs.cacert, Some(fixture("certs/ca.pem")));
    assert_eq!(s.dcs.key, Some(PathBuf::from("/etc/etcd/client-key.pem")));
    assert_eq!(s.rest.username.as_deref(), Some("admin"));
    assert_eq!(
        s.rest.password.as_ref().map(Secret::expose),
        Some("admin-pass")
    );
    assert_eq!(s.rest.cert, Some(PathBuf::from("/etc/patroni/ctl.pem")));
    // ctl has no cacert: restapi.cafile is used
    assert_eq!(s.rest.cacert, Some(PathBuf::from("/etc/patroni/ca.pem")));
    assert!(s.rest.insecure, "`insecure: yes` is a YAML 1.1 true");
}

#[test]
fn broken_yaml_names_file_line_and_column() {
    let err = load_fixture("broken.yml").unwrap_err();
    match &err {
        ConfigError::Syntax {
            path, line, column, ..
        } => {
            assert!(path.ends_with("broken.yml"));
            assert!(*line >= 3, "line {line}");
            assert!(*column >= 1, "column {column}");
        }
        other => panic!("expected a syntax error, got {other:?}"),
    }
    let msg = err.to_string();
    assert!(msg.contains("broken.yml:"), "{msg}");
}

#[test]
fn missing_explicit_file_is_an_error() {
    let err = load(&ConfigSource {
        file: Some(fixture("does-not-exist.yml")),
        ..Default::default()
    })
    .unwrap_err();
    assert!(matches!(err, ConfigError::Read { .. }), "{err:?}");
    assert!(err.to_string().contains("does-not-exist.yml"));
}

#[test]
fn missing_scope_is_a_clear_error() {
    let err = from_str(
        "etcd3: {host: a}\n",
        Some(Path::new("x.yml")),
        &ConfigSource::default(),
    )
    .unwrap_err();
    assert!(err.to_string().contains("scope"), "{err}");
}

#[test]
fn missing_etcd_is_a_clear_error() {
    let err = from_str(
        "scope: a\n",
        Some(Path::new("x.yml")),
        &ConfigSource::default(),
    )
    .unwrap_err();
    assert!(err.to_string().contains("etcd"), "{err}");
}

#[test]
fn dcs_url_overrides_file_and_sets_namespace() {
    let src = ConfigSource {
        dcs_url: Some("etcd3://127.0.0.1:24000/custom".into()),
        scope: Some("other".into()),
        ..Default::default()
    };
    let s = from_str("scope: a\netcd3: {host: x}\n", None, &src).unwrap();
    assert_eq!(s.scope, "other");
    assert_eq!(s.namespace, "/custom/");
    assert_eq!(s.dcs.endpoints, vec!["http://127.0.0.1:24000"]);
}

#[test]
fn dcs_url_errors() {
    assert!(parse_dcs_url("consul://x:8500").is_err());
    assert!(parse_dcs_url("127.0.0.1:2379").is_err());
    assert!(parse_dcs_url("etcd3://").is_err());
    let (api, ep, ns) = parse_dcs_url("etcd://h").unwrap();
    assert_eq!((api, ep.as_str(), ns), (DcsApi::V2, "http://h:2379", None));
}

#[test]
fn garbage_types_do_not_panic() {
    for text in [
        "- a\n- b\n",
        "scope: [1, 2]\n",
        "scope: a\netcd3: 5\n",
        "scope: a\netcd3: {hosts: {x: 1}}\n",
        "\t\u{0}",
        ":::",
    ] {
        let r = from_str(text, Some(Path::new("g.yml")), &ConfigSource::default());
        assert!(r.is_err(), "{text:?} -> {r:?}");
    }
}

#[test]
fn yaml_alias_bomb_is_refused_not_expanded() {
    // fuzz/corpus/patroni_yaml/regression-alias-bomb took the patroni_yaml target past its
    // 10 s limit: each anchor is ten aliases of the one before, so the parser copies ten
    // times more events per level. Four levels (11 000 copies), in keys patrol ignores:
    let mut text = String::from("a: &a [x, x, x, x, x, x, x, x, x, x]\n");
    for (name, prev) in [("b", "a"), ("c", "b"), ("d", "c")] {
        let refs = vec![format!("*{prev}"); 10].join(", ");
        text += &format!("{name}: &{name} [{refs}]\n");
    }
    text += "scope: demo\netcd3:\n  hosts: 10.0.0.1\n";
    let r = from_str(&text, None, &ConfigSource::default());
    let e = r.map(|s| s.dcs.endpoints).unwrap_err();
    assert!(matches!(e, ConfigError::Syntax { .. }), "{e}");
    assert!(e.to_string().contains("budget"), "{e}");

    // an anchor used once or twice, as a real file might, still works
    let s = from_str(
        "etcd_hosts: &h [10.0.0.1, 10.0.0.2]\nscope: demo\netcd3:\n  hosts: *h\n",
        None,
        &ConfigSource::default(),
    )
    .unwrap();
    assert_eq!(
        s.dcs.endpoints,
        vec!["http://10.0.0.1:2379", "http://10.0.0.2:2379"]
    );
}

#[test]
fn a_key_given_twice_takes_its_last_value_as_patroni_does() {
    // PyYAML (what Patroni reads patroni.yml with) keeps the last value of a repeated key
    let s = from_str(
        "scope: old\netcd3:\n  hosts: 10.0.0.1\nscope: demo\n",
        None,
        &ConfigSource::default(),
    )
    .unwrap();
    assert_eq!(s.scope, "demo");
}

fn rest_only_of(yaml: &str, api: &[&str], rest_only: bool) -> Result<Settings, ConfigError> {
    from_str(
        yaml,
        Some(Path::new("/etc/patroni/patroni.yml")),
        &ConfigSource {
            rest_only,
            api: api.iter().map(|s| s.to_string()).collect(),
            ..Default::default()
        },
    )
}

#[test]
fn a_node_config_keeps_etcd_and_offers_its_own_api_as_a_rest_only_seed() {
    let s = load_fixture("node_patroni.yml").unwrap();
    assert!(!s.rest_only, "an etcd section means etcd");
    assert_eq!(s.api_seeds, vec!["http://10.0.0.11:8008/patroni"]);
}

#[test]
fn no_etcd_section_means_rest_only_from_the_config_or_the_command_line() {
    // Patroni on Consul: patrol cannot read it, so it asks the members
    let consul = "scope: demo\nconsul:\n  host: 127.0.0.1:8500\nrestapi:\n  connect_address: db1:8008\n  certfile: /etc/ssl/rest.pem\n";
    let s = rest_only_of(consul, &[], false).unwrap();
    assert!(s.rest_only);
    assert_eq!(
        s.api_seeds,
        vec!["https://db1:8008/patroni"],
        "certfile: https"
    );
    assert!(s.dcs.endpoints.is_empty());
    let err = rest_only_of("scope: demo\nkubernetes:\n  namespace: x\n", &[], false)
        .unwrap_err()
        .to_string();
    assert!(err.contains("kubernetes") && err.contains("--api"), "{err}");
    // nothing at all but --api
    let s = rest_only_of(
        "scope: demo\n",
        &["10.1.1.1:8008", "https://[::1]:8009/"],
        false,
    )
    .unwrap();
    assert!(s.rest_only);
    assert_eq!(
        s.api_seeds,
        vec!["http://10.1.1.1:8008/patroni", "https://[::1]:8009/patroni"]
    );
    // an etcd section and --api: etcd, with the seed kept for a fallback
    let etcd = "scope: demo\netcd3:\n  host: 127.0.0.1:2379\n";
    let s = rest_only_of(etcd, &["db2:8008"], false).unwrap();
    assert!(!s.rest_only);
    assert!(rest_only_of(etcd, &["db2:8008"], true).unwrap().rest_only);
    // --rest-only with nobody to ask
    let err = rest_only_of(etcd, &[], true).unwrap_err().to_string();
    assert!(err.contains("REST-only"), "{err}");
}

#[test]
fn api_addresses_pass_the_host_grammar_or_are_refused() {
    for (a, tls, want) in [
        ("db1:8008", false, "http://db1:8008/patroni"),
        ("db1.example.com", true, "https://db1.example.com/patroni"),
        (
            "http://10.0.0.1:8008/patroni",
            true,
            "http://10.0.0.1:8008/patroni",
        ),
        ("[fe80::1]:8008", false, "http://[fe80::1]:8008/patroni"),
        ("[::1]", false, "http://[::1]/patroni"),
    ] {
        assert_eq!(api_status_url(a, tls).as_deref(), Ok(want), "{a}");
    }
    for bad in [
        "",
        "db1:80a8",
        "db1:99999",
        "ftp://db1:21",
        "db1;rm -rf /:8008",
        "user:pw@db1:8008",
        "db 1:8008",
        "-oProxyCommand=x:8008",
        "db1:8008/other",
        "-db1:8008",
        "[::1",
        "[::1]x",
    ] {
        assert!(api_status_url(bad, false).is_err(), "{bad:?} accepted");
    }
}
