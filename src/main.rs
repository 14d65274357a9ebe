use std::process::ExitCode;

use clap::Parser;
use color_eyre::eyre::{Result, WrapErr};

use patrol::cli::{Cli, Command};
use patrol::config::{self, ConfigSource};
use patrol::theme::Theme;

fn main() -> ExitCode {
    match run() {
        Ok(code) => code,
        Err(e) => {
            eprintln!("patrol: {e:#}");
            ExitCode::from(1)
        }
    }
}

fn init_logging(cli: &Cli) -> Result<()> {
    // Never to stdout/stderr: the TUI owns the terminal. Only to a file when asked.
    if let Some(path) = &cli.log_file {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .wrap_err_with(|| format!("cannot open log file {}", path.display()))?;
        tracing_subscriber::fmt()
            .with_env_filter(
                tracing_subscriber::EnvFilter::try_from_env("PATROL_LOG")
                    .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("patrol=info")),
            )
            .with_writer(std::sync::Mutex::new(file))
            .with_ansi(false)
            .init();
    }
    Ok(())
}

fn run() -> Result<ExitCode> {
    // Before anything touches the terminal, so a panic report comes after the restore.
    color_eyre::install()?;
    let cli = Cli::parse();
    init_logging(&cli)?;
    patrol::install_crypto_provider();

    let scope = match &cli.command {
        Some(Command::List { cluster_name, .. }) => cluster_name.clone().or(cli.cluster.clone()),
        None => cli.cluster.clone(),
    };
    let settings = match config::load(&ConfigSource {
        file: cli.config_file.clone(),
        dcs_url: cli.dcs_url.clone(),
        insecure: cli.insecure,
        scope,
    }) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("patrol: {e}");
            return Ok(ExitCode::from(2));
        }
    };

    match cli.command {
        Some(Command::List {
            format, extended, ..
        }) => {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            match rt.block_on(patrol::runtime::oneshot::collect(&settings, cli.timeout)) {
                Ok(app) => {
                    println!("{}", patrol::output::render(&app, format, extended));
                    Ok(ExitCode::SUCCESS)
                }
                Err(e) => {
                    eprintln!("patrol: {e}");
                    Ok(ExitCode::from(1))
                }
            }
        }
        None => {
            let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
            let logs = match cli.logs.as_deref().map(patrol::logs::LogSourceSpec::parse) {
                None => None,
                Some(Ok(s)) => Some(s),
                Some(Err(e)) => {
                    eprintln!("patrol: --logs: {e}");
                    return Ok(ExitCode::from(2));
                }
            };
            let theme = Theme::resolve(cli.theme.as_deref(), no_color)
                .map_err(color_eyre::eyre::Report::msg)?;
            patrol::runtime::run_tui(
                settings,
                patrol::runtime::Options {
                    interval: cli.interval,
                    timeout: cli.timeout,
                    theme,
                    read_only: cli.read_only,
                    audit_log: cli
                        .audit_log
                        .clone()
                        .unwrap_or_else(patrol::runtime::default_audit_log),
                    logs,
                },
            )?;
            Ok(ExitCode::SUCCESS)
        }
    }
}
