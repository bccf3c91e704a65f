/** Used when HOP_WEBHOOK_SECRET is unset, so `npm start` and `npm run send` agree out of the box. */
export const DEVELOPMENT_SECRET = 'whsec_sample-app-development-secret-not-for-production';

export const webhookSecret = (): string => process.env.HOP_WEBHOOK_SECRET ?? DEVELOPMENT_SECRET;
