"""The console: the merchant's pages (opened by the app's load callback inside BigCommerce's control panel)
and the operator's (`bcsync console`, on 127.0.0.1), one router for both (`bcsync.console.router`)."""
