"""Thin Slack listeners: parse the payload, call one domain function, render the answer."""
