"""gatekeeper.service"""
