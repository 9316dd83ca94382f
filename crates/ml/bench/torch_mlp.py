#!/usr/bin/env python3
"""Times one training step of the digits MLP (64-128-10, ReLU, cross-entropy, Adam
lr=0.01, no weight decay) in PyTorch on CPU, for comparison with
`cargo bench -p hyphae-ml --bench train_step` (divan's `train_step` rows).

Inputs are random values of the digits shape: throughput does not depend on the data.
Prints the median microseconds per step for each batch size, like divan's median column.

    python3 crates/ml/bench/torch_mlp.py [--threads N] [--steps 2000]
"""

import argparse
import statistics
import time

import torch


def time_steps(batch_size: int, steps: int, warmup: int) -> float:
    torch.manual_seed(0)
    model = torch.nn.Sequential(
        torch.nn.Linear(64, 128), torch.nn.ReLU(), torch.nn.Linear(128, 10)
    )
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
    inputs = torch.rand(batch_size, 64)
    labels = torch.randint(0, 10, (batch_size,))
    loss_fn = torch.nn.CrossEntropyLoss()
    samples = []
    for step in range(warmup + steps):
        start = time.perf_counter()
        optimizer.zero_grad()
        loss = loss_fn(model(inputs), labels)
        loss.backward()
        optimizer.step()
        loss.item()  # the Rust step reads the loss back too
        if step >= warmup:
            samples.append(time.perf_counter() - start)
    return statistics.median(samples) * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--warmup", type=int, default=200)
    args = parser.parse_args()
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads")
    for batch_size in (32, 64, 256):
        micros = time_steps(batch_size, args.steps, args.warmup)
        print(f"train_step batch={batch_size}: median {micros:.1f} us/step")


if __name__ == "__main__":
    main()
