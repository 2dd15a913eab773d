"""Training management (the personnel support system): job roles → curricula → training
requirements, read-and-understood by e-signature with an optional quiz, recurrence, the
training matrix, and training gates.

What other modules call:

- ``gate.require_current_training(session, actor, document_numbers)``: before a step that a
  document governs and that is not a workflow transition (a production batch record step, a
  weighing, a line clearance), inside the same unit of work and before writing anything.
  Raises ``kernel.errors.TrainingMissing`` naming each document the actor is not trained on
  (never trained, assigned but not completed, overdue, fallen due again); a revision still
  within its due period does not block. Service accounts are not gated.
- Workflow transitions need no code: QA declares "record type, transition → document" rules
  (``gate.add_governing_document``, page /training/governing); the gate registered with
  ``kernel.workflow.register_gate`` enforces them inside ``perform``. A signed step taken
  outside ``perform`` (a change's function approval, a CAPA's effectiveness verdict) calls
  ``gate.require_training_for_step`` before signing; a step that is no transition is made
  governable with ``gate.register_signed_step``.
- ``status.assessments(session, user_ids, document_ids)``: where people stand, to show it.
- ``service.on_version_effective`` / ``service.on_document_obsolete``: document control's hooks,
  handed to it with the job roles a document reaches by ``document_control`` at import
  (``documents.training_port``: document control does not import training).

Competence beyond training (assessments, authorisations such as the QP nomination, who is
qualified for which job role, the gate on signed duties, training-effectiveness figures) is
the sub-package ``competence`` (docs/quality-loops.md, "Personnel: competence beyond training").
"""
