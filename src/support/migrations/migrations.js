import journal from './meta/_journal.json';
import m0000 from './0000_init.sql';
import m0001 from './0001_message_moderation_columns.sql';
import m0002 from './0002_erased_messages.sql';

  export default {
    journal,
    migrations: {
      m0000,
m0001,
m0002
    }
  }
  