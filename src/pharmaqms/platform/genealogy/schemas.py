"""API shapes of genealogy answers: what the OpenAPI document promises a client (each graph
element is described by its keys; values are plain JSON)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel


class RecallScopeOut(BaseModel):
    start: str
    at: str | None
    lots: list[Any]
    items: list[Any]
    containers: list[Any]
    shipments: list[dict[str, Any]]
    locations: list[dict[str, Any]]
    customers: list[dict[str, Any]]
    events: Any


class NodeOut(BaseModel):
    id: str
    kind: str
    label: str
    url: str | None
    detail: Any


class EdgeOut(BaseModel):
    source: str
    target: str
    relation: str
    time: str | None


class GenealogyOut(BaseModel):
    start: str
    direction: str
    at: str | None
    nodes: list[NodeOut]
    edges: list[EdgeOut]
    recall_scope: RecallScopeOut | None
