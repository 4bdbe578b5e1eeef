"""gatekeeper.reports"""
