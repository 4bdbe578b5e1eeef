"""gatekeeper.render"""
