"""gatekeeper.policy"""
