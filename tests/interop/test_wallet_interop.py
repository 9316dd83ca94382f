"""Wallet interop between hyphae and bittensor-wallet 4.1.1, both ways.

Run by `.ci/run` inside a venv with `requirements.txt`; `HYPHAE_BIN` names the built binary.
Each encrypted case costs one Argon2i (512 MiB, t=8) per side, a few seconds each.
"""

import json
import os
import subprocess

import pytest
from bittensor_wallet import Keypair, Wallet

HYPHAE = os.environ.get("HYPHAE_BIN", "hyphae")
PASSWORD = "Correct-Horse-42!"


def hyphae(*args, password=None):
    env = dict(os.environ)
    env.pop("HYPHAE_WALLET_PASSWORD", None)
    if password is not None:
        env["HYPHAE_WALLET_PASSWORD"] = password
    out = subprocess.run(
        [HYPHAE, *args, "--output", "json"],
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, f"hyphae {args} failed: {out.stderr}"
    return json.loads(out.stdout.strip().splitlines()[-1])


def select(tmp_path, name):
    return ["--wallet-path", str(tmp_path), "--name", name, "--hotkey", "hk"]


def test_hyphae_plain_wallet_loads_in_python(tmp_path):
    made = hyphae("wallet", "create", *select(tmp_path, "plain"), "--no-password")
    w = Wallet(name="plain", hotkey="hk", path=str(tmp_path))
    assert w.coldkeypub.ss58_address == made["coldkey"]
    assert w.coldkey.ss58_address == made["coldkey"]
    assert w.hotkey.ss58_address == made["hotkey"]
    assert w.hotkeypub.ss58_address == made["hotkey"]
    # Python re-derives the same keys from the mnemonics hyphae printed.
    assert Keypair.create_from_mnemonic(made["coldkey_mnemonic"]).ss58_address == made["coldkey"]
    assert Keypair.create_from_mnemonic(made["hotkey_mnemonic"]).ss58_address == made["hotkey"]
    for flag in ([], ["--coldkey"]):
        signed = hyphae("wallet", "sign", *select(tmp_path, "plain"), "--message", "hello from hyphae", *flag)
        assert Keypair(ss58_address=signed["address"]).verify("hello from hyphae", signed["signature"])
        assert not Keypair(ss58_address=signed["address"]).verify("tampered", signed["signature"])


def test_hyphae_encrypted_coldkey_loads_in_python(tmp_path):
    made = hyphae("wallet", "create", *select(tmp_path, "enc"), password=PASSWORD)
    with open(tmp_path / "enc" / "coldkey", "rb") as f:
        assert f.read(5) == b"$NACL"
    w = Wallet(name="enc", hotkey="hk", path=str(tmp_path))
    assert w.get_coldkey(password=PASSWORD).ss58_address == made["coldkey"]
    signed = hyphae("wallet", "sign", *select(tmp_path, "enc"), "--message", "m", "--coldkey", password=PASSWORD)
    assert signed["address"] == made["coldkey"]
    assert Keypair(ss58_address=made["coldkey"]).verify("m", signed["signature"])


def test_python_plain_wallet_loads_in_hyphae(tmp_path):
    w = Wallet(name="py", hotkey="hk", path=str(tmp_path))
    w.create_if_non_existent(coldkey_use_password=False, hotkey_use_password=False, suppress=True)
    shown = hyphae("wallet", "show", *select(tmp_path, "py"))
    assert shown["coldkey"] == w.coldkeypub.ss58_address
    assert shown["hotkey"] == w.hotkey.ss58_address
    for flag, key in (([], w.hotkey), (["--coldkey"], w.coldkey)):
        signed = hyphae("wallet", "sign", *select(tmp_path, "py"), "--message", "interop", *flag)
        assert signed["address"] == key.ss58_address
        assert key.verify("interop", signed["signature"])


def test_python_encrypted_wallet_loads_in_hyphae(tmp_path):
    w = Wallet(name="pyenc", hotkey="hk", path=str(tmp_path))
    w.create_new_coldkey(n_words=12, use_password=True, overwrite=True, suppress=True, coldkey_password=PASSWORD)
    w.create_new_hotkey(n_words=12, use_password=False, overwrite=True, suppress=True)
    signed = hyphae("wallet", "sign", *select(tmp_path, "pyenc"), "--message", "enc", "--coldkey", password=PASSWORD)
    assert signed["address"] == w.coldkeypub.ss58_address
    assert Keypair(ss58_address=signed["address"]).verify("enc", signed["signature"])


def test_python_signature_verifies_in_hyphae(tmp_path):
    kp = Keypair.create_from_uri("//Bob")
    sig = "0x" + kp.sign("from python").hex()
    ok = hyphae("wallet", "verify", "--message", "from python", "--signature", sig, "--address", kp.ss58_address)
    assert ok["valid"] is True


def test_regen_matches_python_mnemonic(tmp_path):
    mnemonic = Keypair.generate_mnemonic(24)
    expected = Keypair.create_from_mnemonic(mnemonic).ss58_address
    made = hyphae("wallet", "regen-coldkey", *select(tmp_path, "regen"), "--mnemonic", mnemonic, "--no-password")
    assert made["coldkey"] == expected
    w = Wallet(name="regen", hotkey="hk", path=str(tmp_path))
    assert w.coldkey.ss58_address == expected
    with open(tmp_path / "regen" / "coldkey") as f:
        assert json.load(f)["secretPhrase"] == mnemonic
