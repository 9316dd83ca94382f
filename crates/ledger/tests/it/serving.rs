use crate::support::*;
use hyphae_ledger::{serving::AxonArgs, Call, TxError};
use hyphae_primitives::Uid;

fn axon(ip: u128, ip_type: u8, port: u16) -> AxonArgs {
    AxonArgs {
        version: 1,
        ip,
        port,
        ip_type,
        protocol: 4,
        placeholder1: 0,
        placeholder2: 0,
    }
}

#[test]
fn serve_axon_rules() {
    let mut chain = Chain::dev();
    let hot = key("//Bob//hot");
    let serve = |args| Call::ServeAxon {
        netuid: NETUID,
        axon: args,
    };
    chain.ok(
        &key("//Bob"),
        Call::Transfer {
            dest: hot.account_id(),
            amount: tao(1),
        },
    );
    assert_eq!(
        chain.call(&hot, serve(axon(0x0a00_0001, 4, 8091))),
        Err(TxError::NotRegistered)
    );
    chain.register("//Bob", "//Bob//hot");
    assert_eq!(
        chain.call(&hot, serve(axon(0x0a00_0001, 5, 8091))),
        Err(TxError::InvalidIpType)
    );
    assert_eq!(
        chain.call(&hot, serve(axon(0, 4, 8091))),
        Err(TxError::InvalidIpAddress)
    );
    assert_eq!(
        chain.call(&hot, serve(axon(0x7f00_0001, 4, 8091))),
        Err(TxError::InvalidIpAddress)
    );
    assert_eq!(
        chain.call(&hot, serve(axon(1 << 32, 4, 8091))),
        Err(TxError::InvalidIpAddress)
    );
    assert_eq!(
        chain.call(&hot, serve(axon(1, 6, 8091))),
        Err(TxError::InvalidIpAddress)
    );
    assert_eq!(
        chain.call(&hot, serve(axon(u128::MAX, 6, 8091))),
        Err(TxError::InvalidIpAddress)
    );
    assert_eq!(
        chain.call(&hot, serve(axon(0x0a00_0001, 4, 0))),
        Err(TxError::InvalidPort)
    );
    chain.ok(&hot, serve(axon(0x0a00_0001, 4, 8091)));
    let stored = chain.state.neuron(NETUID, Uid(0)).unwrap().axon.unwrap();
    assert_eq!(stored.args.port, 8091);
    assert_eq!(stored.block.0, chain.block());
    assert_eq!(
        chain.call(&hot, serve(axon(0x0a00_0002, 4, 8091))),
        Err(TxError::ServingRateLimited)
    );
    chain.advance(50);
    chain.ok(&hot, serve(axon(0x2001_0db8 << 96, 6, 8091)));
}
