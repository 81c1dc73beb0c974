import { ApiError, enumParam, optional, param } from '../api-error.ts';
import type { Action } from './context.ts';

export interface SentMail {
  envId: string;
  account: string;
  to: string[];
  subject: string;
  html?: string | undefined;
  text?: string | undefined;
  fromAlias?: string | undefined;
  at: string;
}

export function dmActions(outbox: SentMail[]): Record<string, Action> {
  return {
    SingleSendMail(ctx) {
      const account = param(ctx.params, 'AccountName');
      enumParam(ctx.params, 'AddressType', ['0', '1'] as const);
      param(ctx.params, 'ReplyToAddress');
      const to = param(ctx.params, 'ToAddress')
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
      if (to.length > 100)
        throw new ApiError(400, 'InvalidToAddress', `ToAddress lists ${to.length} recipients; at most 100.`);
      for (const address of to)
        if (!/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(address))
          throw new ApiError(400, 'InvalidToAddress', `${address} is not a valid address.`);
      const subject = param(ctx.params, 'Subject');
      if (subject.length > 256)
        throw new ApiError(400, 'InvalidSubject.Malformed', 'Subject is longer than 256 characters.');
      const html = optional(ctx.params, 'HtmlBody');
      const text = optional(ctx.params, 'TextBody');
      if (!html && !text)
        throw new ApiError(
          400,
          'MissingParameter',
          'The input parameter "HtmlBody" or "TextBody" that is mandatory for processing this request is not supplied.',
        );
      const envId = String(Date.now()) + String(outbox.length).padStart(4, '0');
      outbox.push({
        envId,
        account,
        to,
        subject,
        html,
        text,
        fromAlias: optional(ctx.params, 'FromAlias'),
        at: new Date().toISOString(),
      });
      return { EnvId: envId };
    },
  };
}
