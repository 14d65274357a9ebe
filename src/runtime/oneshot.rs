//! `patrol list`: one snapshot of etcd plus one round of REST calls, fed through the same
//! `App::update` the TUI uses, so both show the same figures.

use std::time::{Duration, Instant};

use crate::app::{App, AppConfig, Effect, Msg};
use crate::config::{DcsApi, Settings};
use crate::dcs::DcsEvent;
use crate::patroni::RestClient;

pub async fn collect(settings: &Settings, timeout: Duration) -> Result<App, String> {
    let prefix = settings.cluster_prefix();
    let mut app = App::new(AppConfig::for_settings(settings), Instant::now());
    let client = RestClient::new(&settings.rest, timeout).map_err(|e| e.to_string())?;
    let mut errors = Vec::new();
    let mut effects = None;
    if settings.rest_only {
        // REST-only: the first seed whose /cluster answers
        let seeds: Vec<(String, String)> = app
            .start()
            .into_iter()
            .flat_map(|e| match e {
                Effect::PollCluster(set) => set,
                _ => Vec::new(),
            })
            .collect();
        for (label, url) in seeds {
            match client.cluster(&url).await {
                Ok(keys) => {
                    effects = Some(app.update(Msg::RestCluster {
                        from: label,
                        at: Instant::now(),
                        result: Ok(Box::new(keys)),
                    }));
                    break;
                }
                Err(e) => errors.push(format!("{}: {e}", crate::text::redact_url(&label))),
            }
        }
        if effects.is_none() {
            return Err(format!(
                "REST-only: no Patroni API answered /cluster: {}",
                errors.join("; ")
            ));
        }
    }
    for ep in settings.dcs.endpoints.iter().filter(|_| effects.is_none()) {
        let snap = match settings.dcs.api {
            DcsApi::V3 => crate::dcs::v3_snapshot(&settings.dcs, ep, &prefix)
                .await
                .map(|sn| (sn.revision, sn.kvs, Vec::new(), sn.skipped)),
            DcsApi::V2 => crate::dcs::v2::snapshot_once(&settings.dcs, ep, &prefix)
                .await
                .map(|(index, flat)| (index, flat.kvs, flat.ttls, Vec::new())),
        };
        match snap {
            Ok((revision, kvs, ttls, skipped)) => {
                let at = Instant::now();
                let snapshot = DcsEvent::Snapshot {
                    endpoint: ep.clone(),
                    revision,
                    kvs,
                };
                let mut eff = app.update(Msg::Dcs(at, snapshot));
                for (key, ttl) in ttls {
                    eff.extend(app.update(Msg::Dcs(at, DcsEvent::Ttl { key, ttl })));
                }
                for ev in skipped {
                    eff.extend(app.update(Msg::Dcs(at, ev)));
                }
                effects = Some(eff);
                break;
            }
            // printed on stderr: the endpoint without credentials, etcd's words sanitized
            Err(e) => errors.push(format!(
                "{}: {}",
                crate::text::redact_url(ep),
                crate::text::sanitize(&e.to_string())
            )),
        }
    }
    let Some(effects) = effects else {
        return Err(format!("cannot reach etcd: {}", errors.join("; ")));
    };
    let targets: Vec<(String, String)> = effects
        .into_iter()
        .flat_map(|e| match e {
            Effect::PollMembers(set) => set,
            // `list` never confirms anything, so it never has writes to run
            _ => Vec::new(),
        })
        .collect();
    let replies = futures::future::join_all(targets.iter().cloned().map(|(member, url)| {
        let client = client.clone();
        async move {
            let result = client
                .status(&url)
                .await
                .map(Box::new)
                .map_err(|e| e.to_string());
            (member, result)
        }
    }))
    .await;
    for (member, result) in replies {
        app.update(Msg::Rest {
            member,
            at: Instant::now(),
            result,
        });
    }
    // Live lag pairs each replica's position with the leader's sampled after it: ask the
    // leader once more, now that every replica has answered.
    let leader = app.cluster().and_then(|c| c.leader.clone());
    if let Some((member, url)) = leader.and_then(|l| targets.iter().find(|(m, _)| *m == l)) {
        let result = client
            .status(url)
            .await
            .map(Box::new)
            .map_err(|e| e.to_string());
        app.update(Msg::Rest {
            member: member.clone(),
            at: Instant::now(),
            result,
        });
    }
    app.update(Msg::Tick(Instant::now()));
    Ok(app)
}

/// `patrol check`'s one look at each HAProxy: its stats read once, judged without HAProxy's
/// check window (one look has no history), like the console judges each answer.
pub async fn read_haproxy(
    app: &mut App,
    specs: Vec<crate::haproxy::HaproxySpec>,
    timeout: Duration,
) -> Result<(), String> {
    if specs.is_empty() {
        return Ok(());
    }
    let http = super::haproxy::stats_client(timeout)?;
    app.model.routing = crate::app::routing::Routing::new(specs.clone());
    app.model.routing.one_look = true;
    for (source, spec) in specs.iter().enumerate() {
        let result = super::haproxy::fetch(&http, spec, timeout)
            .await
            .map(Box::new);
        app.update(Msg::Haproxy {
            source,
            at: Instant::now(),
            result,
        });
    }
    Ok(())
}
