"""gatekeeper.attest"""
