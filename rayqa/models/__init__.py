"""rayqa.models"""
