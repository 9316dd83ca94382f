//! Prometheus metrics, one registry, served as text on `GET /metrics` of the metrics port.
//!
//! | name | type | what |
//! |---|---|---|
//! | `hyphae_best_height` | gauge | height of the best block |
//! | `hyphae_finalized_height` | gauge | height of the finalized block |
//! | `hyphae_block_transactions` | histogram | transactions per produced block |
//! | `hyphae_mempool_transactions` | gauge | transactions waiting |
//! | `hyphae_block_production_seconds` | histogram | build + commit time of each block |
//! | `hyphae_epoch_block_seconds` | histogram | build time of blocks that ran at least one epoch |
//! | `hyphae_epochs_total` | counter | epochs run |
//! | `hyphae_rpc_request_seconds` | histogram (label `method`) | RPC handler latency |

use prometheus_client::{
    encoding::text::encode,
    metrics::{
        counter::Counter,
        family::Family,
        gauge::Gauge,
        histogram::{exponential_buckets, Histogram},
    },
    registry::Registry,
};
use std::time::Duration;

type MethodLabels = Vec<(String, String)>;

fn latency_histogram() -> Histogram {
    // 50 µs … ~1.6 s.
    Histogram::new(exponential_buckets(0.000_05, 2.0, 16))
}

/// The node's metrics.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    best_height: Gauge,
    finalized_height: Gauge,
    block_transactions: Histogram,
    mempool_transactions: Gauge,
    block_production: Histogram,
    epoch_block: Histogram,
    epochs: Counter,
    rpc_latency: Family<MethodLabels, Histogram, fn() -> Histogram>,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// Registers every metric.
    pub fn new() -> Self {
        let mut registry = Registry::default();
        let best_height = Gauge::default();
        let finalized_height = Gauge::default();
        let block_transactions = Histogram::new(exponential_buckets(1.0, 2.0, 14));
        let mempool_transactions = Gauge::default();
        let block_production = latency_histogram();
        let epoch_block = latency_histogram();
        let epochs = Counter::default();
        let rpc_latency =
            Family::<MethodLabels, Histogram, fn() -> Histogram>::new_with_constructor(
                latency_histogram,
            );
        registry.register(
            "hyphae_best_height",
            "Height of the best block",
            best_height.clone(),
        );
        registry.register(
            "hyphae_finalized_height",
            "Height of the finalized block",
            finalized_height.clone(),
        );
        registry.register(
            "hyphae_block_transactions",
            "Transactions per produced block",
            block_transactions.clone(),
        );
        registry.register(
            "hyphae_mempool_transactions",
            "Transactions waiting in the mempool",
            mempool_transactions.clone(),
        );
        registry.register(
            "hyphae_block_production_seconds",
            "Build and commit time of each block",
            block_production.clone(),
        );
        registry.register(
            "hyphae_epoch_block_seconds",
            "Build time of blocks that ran an epoch",
            epoch_block.clone(),
        );
        registry.register("hyphae_epochs", "Epochs run", epochs.clone());
        registry.register(
            "hyphae_rpc_request_seconds",
            "RPC handler latency by method",
            rpc_latency.clone(),
        );
        Self {
            registry,
            best_height,
            finalized_height,
            block_transactions,
            mempool_transactions,
            block_production,
            epoch_block,
            epochs,
            rpc_latency,
        }
    }

    /// Records a produced block.
    pub fn block(
        &self,
        best: u64,
        finalized: u64,
        transactions: usize,
        production: Duration,
        epochs: u64,
    ) {
        self.best_height
            .set(i64::try_from(best).unwrap_or(i64::MAX));
        self.finalized_height
            .set(i64::try_from(finalized).unwrap_or(i64::MAX));
        self.block_transactions.observe(transactions as f64);
        self.block_production.observe(production.as_secs_f64());
        if epochs > 0 {
            self.epoch_block.observe(production.as_secs_f64());
            self.epochs.inc_by(epochs);
        }
    }

    /// Records the heights at start-up.
    pub fn heights(&self, best: u64, finalized: u64) {
        self.best_height
            .set(i64::try_from(best).unwrap_or(i64::MAX));
        self.finalized_height
            .set(i64::try_from(finalized).unwrap_or(i64::MAX));
    }

    /// Records the mempool size.
    pub fn mempool(&self, len: usize) {
        self.mempool_transactions
            .set(i64::try_from(len).unwrap_or(i64::MAX));
    }

    /// Records one RPC call's latency.
    pub fn rpc(&self, method: &str, elapsed: Duration) {
        let labels = vec![("method".to_owned(), method.to_owned())];
        self.rpc_latency
            .get_or_create(&labels)
            .observe(elapsed.as_secs_f64());
    }

    /// The OpenMetrics text exposition.
    pub fn render(&self) -> String {
        let mut text = String::new();
        if encode(&mut text, &self.registry).is_err() {
            text.clear();
        }
        text
    }
}
