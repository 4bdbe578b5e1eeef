"""gatekeeper.ledger"""
