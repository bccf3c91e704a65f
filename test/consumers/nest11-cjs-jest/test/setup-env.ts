// AppModule reads the webhook secret when it is imported: set it before any test file loads.
process.env.HOP_WEBHOOK_SECRET ??= 'whsec_e2e_test_secret';
