"""rayqa.train"""
