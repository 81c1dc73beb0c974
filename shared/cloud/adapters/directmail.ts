import type { RpcClient } from '../rpc.ts';

/** DirectMail (2015-11-23): SingleSendMail, at most 100 recipients a call. */
export class DirectMailAdapter {
  constructor(private readonly rpc: RpcClient) {}

  async send(mail: {
    account: string;
    to: string[];
    subject: string;
    html?: string;
    text?: string;
    fromAlias?: string;
  }): Promise<{ envIds: string[] }> {
    const envIds: string[] = [];
    for (let i = 0; i < mail.to.length; i += 100) {
      const r = await this.rpc.call<{ EnvId: string }>('SingleSendMail', {
        AccountName: mail.account,
        AddressType: 1,
        ReplyToAddress: false,
        ToAddress: mail.to.slice(i, i + 100).join(','),
        Subject: mail.subject,
        HtmlBody: mail.html,
        TextBody: mail.text,
        FromAlias: mail.fromAlias,
      });
      envIds.push(String(r.EnvId));
    }
    return { envIds };
  }
}
