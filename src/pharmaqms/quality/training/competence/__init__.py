"""Competence beyond training (the personnel support system, EU GMP Chapter 2): what a job
role requires besides current training on its curricula — assessments (a quiz, an observed
practice) passed within their validity, and authorisations for role-critical duties (QP
certification, GDP responsible person) in force — who is qualified for which job role, the
gate that refuses a duty's signature to anyone not qualified for it, and the organisation's
training-effectiveness figures.

models.py         requirements of job roles, authorisations (+ their basis files), assessments
rules.py          the tables: authorisation kinds, duty rules, qualification checks, each with
                  its regulatory basis
workflow.py       authorisation and assessment life cycles; registers the gate
service.py        the verbs (grant, revoke, take a quiz assessment, record observed practice)
status.py         qualification per person and job role, per duty; authorisation states
gate.py           the qualification gate on signed duties
effectiveness.py  the training-effectiveness figures by month
"""
