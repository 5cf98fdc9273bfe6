import java.io.IOException;
import java.lang.reflect.Field;
import org.eclipse.jetty.server.Connector;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import software.amazon.dynamodb.services.local.main.CommandLineInput;
import software.amazon.dynamodb.services.local.main.ServerRunner;
import software.amazon.dynamodb.services.local.server.DynamoDBProxyServer;

/**
 * DynamoDB Local as its jar's own main runs it, with two differences: it listens on one
 * address (the system property ledger.host, 127.0.0.1 by default) instead of every
 * interface, and it exits once its standard input ends, which happens when the process
 * that started it dies, however it dies.
 *
 * The jar has no bind-address option: its server builds a Jetty Server on a port alone.
 * The connector is reached through the proxy's private field, which the pinned jar
 * (verified by its digest) has; any other jar fails here loudly rather than listening wide.
 */
public final class LoopbackDynamoDBLocal {
    private LoopbackDynamoDBLocal() {
    }

    public static void main(String[] args) throws Exception {
        String host = System.getProperty("ledger.host", "127.0.0.1");
        if (!new CommandLineInput(args).init()) {
            return;
        }
        DynamoDBProxyServer proxy = ServerRunner.createServerFromCommandLineArgs(args);
        Field field = DynamoDBProxyServer.class.getDeclaredField("server");
        field.setAccessible(true);
        Server server = (Server) field.get(proxy);
        for (Connector connector : server.getConnectors()) {
            ((ServerConnector) connector).setHost(host);
        }
        Thread watchdog = new Thread(LoopbackDynamoDBLocal::exitWhenInputEnds, "parent-watchdog");
        watchdog.setDaemon(true);
        watchdog.start();
        proxy.start();
    }

    private static void exitWhenInputEnds() {
        try {
            while (System.in.read() != -1) {
                // The parent never writes; only the end of the stream matters.
            }
        } catch (IOException error) {
            // A broken stream means the parent is gone just the same.
        }
        // exit, not halt: the shutdown hooks close the database files.
        System.exit(0);
    }
}
