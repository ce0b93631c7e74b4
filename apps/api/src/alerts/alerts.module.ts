import { Module } from '@nestjs/common';
import { LedgerModule } from '#ledger';
import { AlertDelivery } from './alert.delivery.js';

/** Budget alerts: raised by the ledger writer, delivered to ALERT_WEBHOOK_URL from here. */
@Module({
  imports: [LedgerModule],
  providers: [AlertDelivery],
})
export class AlertsModule {}
