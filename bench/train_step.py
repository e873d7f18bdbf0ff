"""Reader training throughput: Ray Train + DeepSpeed vs a plain single-process torch loop.

    python bench/train_step.py [--steps 30] [--workers 2] [--zero-stage 0]
                               [--batch-size 16] [--seq-len 256] [--hidden 128]
    python bench/train_step.py --real [--threads-per-worker 2 --workers 1]

Both sides train the same BERT reader (random weights, tokenizer built on the fly from
the demo corpus) on the same tokenized windows (``rayqa.testing.span_windows.span_loader``),
with AdamW, gradient clipping at 1.0, fp32, and the same global batch per optimizer step:

* Ray: a ``TorchTrainer`` with ``--workers`` gloo workers of ``--threads-per-worker``
  CPUs and torch threads each, ``--batch-size`` windows per worker, wrapped by
  ``rayqa.train.engine.build_engine`` (DeepSpeed, ZeRO ``--zero-stage``), i.e. the path
  ``jobs/train.py`` takes.
* Plain: one process with ``workers * threads_per_worker`` torch threads,
  ``batch-size * workers`` windows per step, ``loss.backward(); optimizer.step()``.

``--real`` is the size a user fine-tunes: a pretrained-shaped encoder of 6 layers,
hidden 384, sequence 384, and multilingual BERT's 119,547-token embedding table (whose
gradient is most of what data parallelism has to all-reduce), 8 windows per worker.
The Ray side also times its phases (forward, ``engine.backward``, ``engine.step``) and a
bare gloo all-reduce of a gradient-sized buffer, to say where the time goes.

Each side times ``--steps`` optimizer steps with ``perf_counter`` after 3 warm-up steps,
so the steady-state examples/s excludes start-up. The ratio Ray/plain is the number to
read, because it does not depend on how fast this particular CPU is: on the same cores
it weighs data parallelism over processes (plus gradient all-reduce and ZeRO
bookkeeping) against intra-op threading in one process, which scales poorly for a model
this small. The Ray side's wall time for ``fit()`` (worker start-up, DeepSpeed init,
tokenization included) is printed apart, to show the fixed overhead a short job pays.
Other work on the machine skews the plain side most (its threads wait for each other),
so the 1-minute load average before and after is printed too.
"""

from __future__ import annotations

import argparse
import itertools
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout too

import torch
import torch.distributed as dist

from rayqa.config import ReaderJobConfig, build_config
from rayqa.data.squad import read_squad
from rayqa.demo import demo_file
from rayqa.testing.span_windows import span_loader

WARMUP_STEPS = 3


def make_config(args: argparse.Namespace, model_dir: str, out_dir: str,
                batch_size: int) -> ReaderJobConfig:
    """The reader job config both sides use; only the per-process batch size differs."""
    tree = {
        "output_dir": out_dir,
        "model": {"name_or_path": model_dir, "max_seq_length": args.seq_len,
                  "doc_stride": min(128, args.seq_len // 4),
                  "max_query_length": min(64, args.seq_len // 4)},
        "train": {"num_workers": args.workers, "batch_size": batch_size,
                  "cpus_per_worker": float(args.threads_per_worker),
                  "max_steps": WARMUP_STEPS + args.steps, "storage_path": out_dir,
                  "deepspeed": {"zero_stage": args.zero_stage, "bf16": "off"}},
    }
    return build_config(ReaderJobConfig, tree, "<bench/train_step.py>")


def batches(loader):
    """Batches as model inputs, forever: the loader is re-run (and re-shuffled) per epoch."""
    for epoch in itertools.count():
        if hasattr(loader.sampler, "set_epoch"):
            loader.sampler.set_epoch(epoch)
        yield from loader


def timed_steps(step, loader, steps: int, on_clock_start=None) -> float:
    """Seconds for ``steps`` calls of ``step(inputs)`` after ``WARMUP_STEPS`` untimed ones."""
    stream = batches(loader)
    for _ in range(WARMUP_STEPS):
        step(next(stream))
    if dist.is_initialized():
        dist.barrier()  # all workers start the clock together
    if on_clock_start is not None:
        on_clock_start()
    start = time.perf_counter()
    for _ in range(steps):
        step(next(stream))
    return time.perf_counter() - start


def load_reader(cfg: ReaderJobConfig):
    """Tokenizer and model from the tiny checkpoint, same weights on every side."""
    from transformers import AutoModelForQuestionAnswering, AutoTokenizer

    torch.manual_seed(cfg.train.seed)
    tokenizer = AutoTokenizer.from_pretrained(cfg.model.name_or_path)
    model = AutoModelForQuestionAnswering.from_pretrained(cfg.model.name_or_path)
    return tokenizer, model


def ray_train_loop(config: dict) -> None:
    """``train_loop_per_worker``: DeepSpeed engine on this worker's shard, timed steps."""
    import ray

    from rayqa.train.engine import build_engine

    cfg = ReaderJobConfig.model_validate(config["cfg"])
    # W workers x T threads = the plain loop's W * T threads.
    torch.set_num_threads(int(cfg.train.cpus_per_worker))
    tokenizer, model = load_reader(cfg)
    loader = span_loader(tokenizer, ray.get(config["examples"]), cfg)
    engine = build_engine(model, cfg.train, {"warmup": 0, "total": cfg.train.max_steps})
    engine.train()
    phases = {"forward": 0.0, "backward": 0.0, "step": 0.0}

    def step(inputs):
        start = time.perf_counter()
        loss = engine(**inputs).loss
        middle = time.perf_counter()
        engine.backward(loss)
        after_backward = time.perf_counter()
        engine.step()
        end = time.perf_counter()
        phases["forward"] += middle - start
        phases["backward"] += after_backward - middle
        phases["step"] += end - after_backward

    seconds = timed_steps(step, loader, config["steps"],
                          on_clock_start=lambda: phases.update(dict.fromkeys(phases, 0.0)))
    examples = config["steps"] * cfg.train.batch_size * dist.get_world_size()
    report_metrics({"examples_per_s": examples / seconds, "seconds": seconds,
                    **{f"{name}_s": value for name, value in phases.items()},
                    "allreduce_s": allreduce_seconds(model, config["steps"]),
                    "params": sum(p.numel() for p in model.parameters())})


def allreduce_seconds(model, steps: int) -> float:
    """Seconds of ``steps`` bare all-reduces of a buffer the size of all gradients: the
    communication floor of one data-parallel step, without DeepSpeed around it."""
    if dist.get_world_size() == 1:
        return 0.0
    buffer = torch.zeros(sum(p.numel() for p in model.parameters()))
    dist.all_reduce(buffer)  # warm-up
    dist.barrier()
    start = time.perf_counter()
    for _ in range(steps):
        dist.all_reduce(buffer)
    return time.perf_counter() - start


def report_metrics(metrics: dict) -> None:
    """``ray.train.report`` from every worker; rank 0 attaches an empty checkpoint
    because Ray Train v2 only keeps metrics that come with one (``Result.metrics``)."""
    import ray.train

    with tempfile.TemporaryDirectory() as empty:
        checkpoint = ray.train.Checkpoint.from_directory(empty)
        ray.train.report(metrics, checkpoint=checkpoint if dist.get_rank() == 0 else None)


def ray_side(cfg: ReaderJobConfig, examples: list, steps: int) -> tuple[dict, float]:
    """Ray Train metrics (rank 0's) and the wall time of ``fit()``."""
    import ray
    from ray.train import RunConfig, ScalingConfig
    from ray.train.torch import TorchConfig, TorchTrainer

    start = time.perf_counter()
    trainer = TorchTrainer(
        ray_train_loop,
        train_loop_config={"cfg": cfg.model_dump(mode="json"), "steps": steps,
                           "examples": ray.put(examples)},
        scaling_config=ScalingConfig(num_workers=cfg.train.num_workers,
                                     resources_per_worker={"CPU": cfg.train.cpus_per_worker}),
        torch_config=TorchConfig(backend="gloo"),
        run_config=RunConfig(name="bench", storage_path=cfg.train.storage_path),
    )
    result = trainer.fit()
    return result.metrics, time.perf_counter() - start


def plain_side(cfg: ReaderJobConfig, examples: list, steps: int, threads: int) -> dict:
    """One process, ``threads`` torch threads, the whole global batch per step."""
    torch.set_num_threads(threads)
    tokenizer, model = load_reader(cfg)
    loader = span_loader(tokenizer, examples, cfg)  # no process group: plain shuffling
    optimizer = torch.optim.AdamW(model.parameters(), lr=cfg.train.lr,
                                  weight_decay=cfg.train.weight_decay)
    clip = cfg.train.deepspeed.gradient_clipping
    model.train()

    def step(inputs):
        optimizer.zero_grad(set_to_none=True)
        model(**inputs).loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), clip)
        optimizer.step()

    seconds = timed_steps(step, loader, steps)
    return {"examples_per_s": steps * cfg.train.batch_size / seconds, "seconds": seconds}


def build_model(examples: list, out_dir: str, args: argparse.Namespace) -> str:
    """A randomly initialized BERT reader of the requested shape, saved with a tokenizer
    trained on the demo corpus (the embedding table may be larger than its vocabulary,
    as a pretrained multilingual checkpoint's is)."""
    from transformers import BertConfig, BertForQuestionAnswering

    from rayqa.testing.tiny import build_tokenizer

    tokenizer = build_tokenizer([e.context for e in examples] + [e.question for e in examples])
    config = BertConfig(vocab_size=max(len(tokenizer), args.vocab), hidden_size=args.hidden,
                        num_hidden_layers=args.layers, num_attention_heads=args.hidden // 64
                        or 1, intermediate_size=4 * args.hidden if args.layers > 2
                        else 2 * args.hidden, max_position_embeddings=512,
                        pad_token_id=tokenizer.pad_token_id)
    torch.manual_seed(0)
    BertForQuestionAnswering(config).save_pretrained(out_dir)
    tokenizer.save_pretrained(out_dir)
    return out_dir


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=30, help="timed steps (after 3 warm-up)")
    parser.add_argument("--workers", type=int, default=2, help="Ray workers = plain threads")
    parser.add_argument("--zero-stage", type=int, default=0, choices=[0, 1, 2])
    parser.add_argument("--batch-size", type=int, default=16, help="windows per worker")
    parser.add_argument("--seq-len", type=int, default=256, help="tokens per window")
    parser.add_argument("--hidden", type=int, default=128, help="hidden size of the reader")
    parser.add_argument("--layers", type=int, default=2, help="transformer layers")
    parser.add_argument("--vocab", type=int, default=0,
                        help="embedding rows (0: the tokenizer's; 119547 = mBERT)")
    parser.add_argument("--threads-per-worker", type=int, default=1,
                        help="CPUs and torch threads of each Ray worker")
    parser.add_argument("--real", action="store_true",
                        help="6 layers, hidden 384, seq 384, mBERT vocabulary, 8 per worker")
    args = parser.parse_args(argv)
    if args.real:
        args.layers, args.hidden, args.seq_len, args.vocab = 6, 384, 384, 119_547
        args.batch_size = 8 if "--batch-size" not in (argv or sys.argv) else args.batch_size
        args.steps = 10 if "--steps" not in (argv or sys.argv) else args.steps
    return args


def report(args, plain: dict, ray_metrics: dict, fit_s: float) -> dict:
    """Prints the settings, both rates, the ratio and the Ray wall time."""
    ratio = ray_metrics["examples_per_s"] / plain["examples_per_s"]
    global_batch = args.batch_size * args.workers
    print(f"settings: BERT {args.layers} layers x hidden {args.hidden} "
          f"({ray_metrics['params'] / 1e6:.1f}M parameters), seq_len {args.seq_len}, "
          f"global batch {global_batch} ({args.workers} x {args.batch_size}), "
          f"{args.steps} timed steps after {WARMUP_STEPS} warm-up, fp32, AdamW, "
          f"{os.cpu_count()} CPUs")
    print(f"load average (1 min) before/after: {args.load_before:.2f} / {os.getloadavg()[0]:.2f}"
          " (other work on these cores skews the plain side most)")
    threads = args.workers * args.threads_per_worker
    print(f"plain torch : {plain['examples_per_s']:8.1f} examples/s "
          f"({plain['seconds']:.2f}s, 1 process x {threads} threads)")
    print(f"ray+deepspeed: {ray_metrics['examples_per_s']:7.1f} examples/s "
          f"({ray_metrics['seconds']:.2f}s, {args.workers} workers x "
          f"{args.threads_per_worker} thread(s), ZeRO-{args.zero_stage}, gloo)")
    print(f"ratio ray/plain: {ratio:.2f}x (steady state)")
    seconds = ray_metrics["seconds"]
    print("ray step time, rank 0: " + ", ".join(
        f"{name} {ray_metrics[f'{name}_s'] / seconds:.0%}"
        for name in ("forward", "backward", "step")) +
        f"; a bare gloo all-reduce of all gradients alone takes "
        f"{ray_metrics['allreduce_s'] / seconds:.0%} of the step time")
    print(f"ray fit() wall time: {fit_s:.1f}s end to end for {WARMUP_STEPS + args.steps} "
          f"steps (worker start-up, DeepSpeed init, tokenization included)")
    return {"plain": plain, "ray": ray_metrics, "ratio": ratio, "ray_fit_s": fit_s}


def main(argv=None) -> dict:
    args = parse_args(argv)
    args.load_before = os.getloadavg()[0]
    os.environ.setdefault("RAY_TRAIN_V2_ENABLED", "1")  # as rayqa.runtime.init_ray does
    examples = read_squad(demo_file("train.json"))
    with tempfile.TemporaryDirectory() as tmp:
        model_dir = build_model(examples, str(Path(tmp, "model")), args)
        global_batch = args.batch_size * args.workers
        plain_cfg = make_config(args, model_dir, tmp, global_batch)
        plain = plain_side(plain_cfg, examples, args.steps,
                           args.workers * args.threads_per_worker)
        import ray  # started after the plain loop so its daemons do not slow that side

        ray.init(address="local", num_cpus=args.workers * args.threads_per_worker,
                 include_dashboard=False,
                 log_to_driver=False,
                 runtime_env={"env_vars": {"HF_HUB_OFFLINE": "1"}})
        try:
            ray_cfg = make_config(args, model_dir, tmp, args.batch_size)
            ray_metrics, fit_s = ray_side(ray_cfg, examples, args.steps)
        finally:
            ray.shutdown()
    return report(args, plain, ray_metrics, fit_s)


if __name__ == "__main__":
    main()
