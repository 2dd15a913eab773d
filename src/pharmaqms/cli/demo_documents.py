"""``pharmaqms demo``: the controlled documents and their periodic reviews (the loaders live in
``quality/documents/demo.py``; they are composed here because bringing a version into force
takes training's demo steps, naming the job role trained on it and having people read and
sign it, and document control may not import training, which builds on it)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from pharmaqms.kernel.demo import DemoContext, register
from pharmaqms.quality.documents import demo as documents_demo
from pharmaqms.quality.training.demo_steps import name_for_training, read_and_sign


def load(session: Session, ctx: DemoContext) -> None:
    documents_demo.load(session, ctx, name_for_training=name_for_training)


def load_periodic_reviews(session: Session, ctx: DemoContext) -> None:
    documents_demo.load_periodic_reviews(
        session, ctx, name_for_training=name_for_training, read_and_sign=read_and_sign
    )


register("documents", load)
register("periodic reviews", load_periodic_reviews)
