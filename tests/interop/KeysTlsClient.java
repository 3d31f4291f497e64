// KeysTlsClient.java - fetches https://localhost:PORT/ with the JVM's
// default trust (javax.net.ssl.trustStore, set by the test to the
// truststore certmint exported) and prints the status and body.
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.URL;
import javax.net.ssl.HttpsURLConnection;

public class KeysTlsClient {
	public static void main(String[] args) throws Exception {
		URL url = new URL("https://localhost:" + args[0] + "/");
		HttpsURLConnection c = (HttpsURLConnection) url.openConnection();
		c.setConnectTimeout(5000);
		c.setReadTimeout(5000);
		try {
			int code = c.getResponseCode();
			BufferedReader r = new BufferedReader(
			    new InputStreamReader(c.getInputStream()));
			StringBuilder body = new StringBuilder();
			for (String l; (l = r.readLine()) != null; )
				body.append(l);
			System.out.println("status " + code + " " + body);
		} catch (javax.net.ssl.SSLHandshakeException e) {
			System.out.println("handshake failed: " + e.getMessage());
			System.exit(3);
		}
	}
}
