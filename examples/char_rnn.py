"""A character-level LSTM language model on tiny Shakespeare, with nn101 (or PyTorch).

    python examples/char_rnn.py --minutes 30 --seed 0               # the full recipe
    python examples/char_rnn.py --steps 300 --eval-every 100        # a quick look
    python examples/char_rnn.py --backend torch --steps 5000        # the same with nn.LSTM

The text is read as ``batch_size`` parallel streams in windows of ``seq_len`` characters; the
LSTM carries its state from one window to the next (truncated backpropagation through time),
and is reset at each pass over the text. Every ``--eval-every`` steps the validation loss
(nats per character, the last 10% of the text) is printed; samples are printed at a few points.
Both backends start from the same weights (copied through ``LSTM.to_torch_state_dict``), read
the same batches and use Adam with the same settings and gradient clipping, so their curves
compare step for step. ``--threads`` sets NumPy's and PyTorch's thread counts.
"""

from __future__ import annotations

import argparse
import math
import time

import numpy as np

import nn101
from nn101.data.text import load_shakespeare
from nn101.recipes.char import (
    CharSettings,
    build_char_lstm,
    char_datasets,
    char_optimizer,
    evaluate_char_loss,
    generate,
    vocabulary_metadata,
)
from nn101.training import TrainState, train_step


def parse_args() -> argparse.Namespace:
    defaults = CharSettings()
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--minutes", type=float, default=None, help="wall-clock budget")
    parser.add_argument("--steps", type=int, default=None, help="number of training steps")
    parser.add_argument("--data-dir", default=None, help="where tinyshakespeare.txt is")
    parser.add_argument("--eval-every", type=int, default=250)
    parser.add_argument("--backend", choices=["nn101", "torch"], default="nn101")
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--save", default=None, help="model file to save (with the vocabulary)")
    parser.add_argument("--hidden", type=int, default=defaults.hidden_size)
    parser.add_argument("--layers", type=int, default=defaults.num_layers)
    parser.add_argument("--batch-size", type=int, default=defaults.batch_size)
    parser.add_argument("--seq-len", type=int, default=defaults.seq_len)
    parser.add_argument("--lr", type=float, default=defaults.learning_rate)
    parser.add_argument(
        "--final-lr-fraction",
        type=float,
        default=0.1,
        help="cosine decay of the rate to this fraction at the end of the run",
    )
    args = parser.parse_args()
    if args.minutes is None and args.steps is None:
        args.minutes = 30.0
    return args


class Budget:
    """Progress in [0, 1] through a run measured in steps or in wall-clock seconds."""

    def __init__(self, steps: int | None, minutes: float | None) -> None:
        self.steps, self.seconds, self.start = (
            steps,
            None if minutes is None else 60 * minutes,
            time.perf_counter(),
        )

    def elapsed(self) -> float:
        return time.perf_counter() - self.start

    def progress(self, step: int) -> float:
        if self.steps is not None:
            return min(step / self.steps, 1.0)
        return min(self.elapsed() / self.seconds, 1.0)


def cosine_rate(base: float, final_fraction: float, progress: float) -> float:
    """From base down to base * final_fraction along a half cosine."""
    return base * (final_fraction + (1 - final_fraction) * 0.5 * (1 + math.cos(math.pi * progress)))


class NN101Backend:
    def __init__(self, model: nn101.Sequential, settings: CharSettings, rng: np.random.Generator):
        self.model, self.settings = model, settings
        self.optimizer = char_optimizer(model, settings)
        self.state = TrainState(
            model, self.optimizer, nn101.SoftmaxCrossEntropy(), rng, clip_norm=settings.clip_norm
        )

    def step(self, x: np.ndarray, y: np.ndarray, learning_rate: float) -> float:
        self.optimizer.learning_rate = learning_rate
        loss, _ = train_step(self.state, x, y)
        return loss

    def reset_state(self) -> None:
        self.model.reset_state()

    def valid_loss(self, valid: nn101.data.Dataset) -> float:
        return evaluate_char_loss(self.model, valid, self.settings.batch_size)

    def sample(self, vocab, length: int, seed: int) -> str:
        return generate(self.model, vocab, "ROMEO:", length, 0.8, np.random.default_rng(seed))


class TorchBackend:
    """The same model in idiomatic PyTorch, starting from the nn101 model's weights."""

    def __init__(self, model: nn101.Sequential, settings: CharSettings):
        import torch

        self.torch, self.settings = torch, settings
        embedding, lstm, head = model.layers
        self.embedding = torch.nn.Embedding(embedding.num_embeddings, embedding.embedding_dim)
        self.lstm = torch.nn.LSTM(
            lstm.input_size, lstm.hidden_size, num_layers=lstm.num_layers, batch_first=True
        )
        self.head = torch.nn.Linear(head.in_features, head.out_features)
        with torch.no_grad():
            self.embedding.weight.copy_(torch.from_numpy(embedding.weight.value))
            self.lstm.load_state_dict(
                {k: torch.from_numpy(v) for k, v in lstm.to_torch_state_dict().items()}
            )
            self.head.weight.copy_(torch.from_numpy(head.weight.value.T.copy()))
            self.head.bias.copy_(torch.from_numpy(head.bias.value))
        self.parameters = [
            *self.embedding.parameters(),
            *self.lstm.parameters(),
            *self.head.parameters(),
        ]
        self.optimizer = torch.optim.Adam(self.parameters, lr=settings.learning_rate)
        self.hidden = None

    def _logits(self, x, hidden):
        out, hidden = self.lstm(self.embedding(x), hidden)
        return self.head(out), hidden

    def step(self, x: np.ndarray, y: np.ndarray, learning_rate: float) -> float:
        torch = self.torch
        for group in self.optimizer.param_groups:
            group["lr"] = learning_rate
        self.optimizer.zero_grad()
        logits, hidden = self._logits(torch.from_numpy(x), self.hidden)
        self.hidden = tuple(h.detach() for h in hidden)  # carried, a constant for the gradient
        loss = torch.nn.functional.cross_entropy(
            logits.flatten(0, 1), torch.from_numpy(y).flatten()
        )
        loss.backward()
        torch.nn.utils.clip_grad_norm_(self.parameters, self.settings.clip_norm)
        self.optimizer.step()
        return loss.item()

    def reset_state(self) -> None:
        self.hidden = None

    def valid_loss(self, valid: nn101.data.Dataset) -> float:
        torch, batch = self.torch, self.settings.batch_size
        total, count, hidden = 0.0, 0, None
        with torch.no_grad():
            for start in range(0, len(valid) - batch + 1, batch):
                x, y = valid[start : start + batch]
                logits, hidden = self._logits(torch.from_numpy(x), hidden)
                total += torch.nn.functional.cross_entropy(
                    logits.flatten(0, 1), torch.from_numpy(y).flatten(), reduction="sum"
                ).item()
                count += y.size
        return total / count

    def sample(self, vocab, length: int, seed: int) -> str:
        torch = self.torch
        generator = torch.Generator().manual_seed(seed)
        with torch.no_grad():
            logits, hidden = self._logits(torch.from_numpy(vocab.encode("ROMEO:"))[None], None)
            out = []
            for _ in range(length):
                p = torch.softmax(logits[0, -1].double() / 0.8, dim=-1)
                out.append(int(torch.multinomial(p, 1, generator=generator)))
                logits, hidden = self._logits(torch.tensor([[out[-1]]]), hidden)
        return "ROMEO:" + vocab.decode(np.array(out))


def main() -> None:
    args = parse_args()
    if args.threads is not None:
        from threadpoolctl import threadpool_limits

        threadpool_limits(args.threads)
        if args.backend == "torch":
            import torch

            torch.set_num_threads(args.threads)
    settings = CharSettings(
        hidden_size=args.hidden,
        num_layers=args.layers,
        batch_size=args.batch_size,
        seq_len=args.seq_len,
        learning_rate=args.lr,
    )
    rng = np.random.default_rng(args.seed)
    corpus = load_shakespeare(args.data_dir)
    train, valid = char_datasets(corpus, settings)
    model = build_char_lstm(len(corpus.vocab), settings, rng=rng)
    backend = (
        NN101Backend(model, settings, rng)
        if args.backend == "nn101"
        else TorchBackend(model, settings)
    )
    batch, steps_per_epoch = settings.batch_size, len(train) // settings.batch_size
    print(
        f"backend {args.backend}, {settings}, {model.num_parameters():,} parameters, "
        f"{steps_per_epoch} steps per pass over the text, budget "
        f"{args.steps if args.steps else ''}{' steps' if args.steps else f'{args.minutes} min'}"
    )
    budget, step, running, curve = Budget(args.steps, args.minutes), 0, [], []
    sample_at = {500, 2000, 8000}
    while budget.progress(step) < 1.0:
        k = step % steps_per_epoch
        if k == 0:
            backend.reset_state()
        x, y = train[k * batch : (k + 1) * batch]
        rate = cosine_rate(settings.learning_rate, args.final_lr_fraction, budget.progress(step))
        running.append(backend.step(x, y, rate))
        step += 1
        if step % args.eval_every == 0:
            val = backend.valid_loss(valid)
            curve.append((step, budget.elapsed(), val))
            print(
                f"step {step:6d}  {budget.elapsed():7.1f} s  lr {rate:.2e}  "
                f"train {np.mean(running):.4f}  valid {val:.4f} nats/char",
                flush=True,
            )
            running = []
        if step in sample_at:
            print(
                f"--- sample at step {step}:\n{backend.sample(corpus.vocab, 200, args.seed)}\n---"
            )
    val = backend.valid_loss(valid)
    print(
        f"final: {step} steps, {step * batch * settings.seq_len:,} characters, "
        f"{budget.elapsed():.1f} s, validation loss {val:.4f} nats/char "
        f"(best on the way: {min([val] + [v for _, _, v in curve]):.4f})"
    )
    print(
        "curve (step, seconds, validation nats/char):",
        [(s, round(t), round(v, 4)) for s, t, v in curve],
    )
    print(f"--- final sample:\n{backend.sample(corpus.vocab, 500, args.seed)}\n---")
    if args.save and args.backend == "nn101":
        model.save(
            args.save,
            metadata={
                **vocabulary_metadata(corpus.vocab),
                "settings": settings.to_dict(),
                "valid_loss": val,
                "steps": step,
            },
        )
        print(f"saved to {args.save}")


if __name__ == "__main__":
    main()
