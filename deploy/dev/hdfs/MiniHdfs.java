// Dev stack only: a real HDFS (one NameNode + one DataNode, Hadoop's
// MiniDFSCluster) on 127.0.0.1, for the livygate dev stack and end-to-end tests.
//
// Run with Java's single-file launcher against the lib dir that
// `hdfs.sh install` fills from Maven Central:
//
//   HADOOP_USER_NAME=hdfs java -cp 'lib/*' MiniHdfs.java \
//       --port 9820 --http-port 9870 --dir DATA --conf-dir CONF \
//       --proxyuser root --groups 'alice=analysts;bob=analysts'
//
// The JVM's user (HADOOP_USER_NAME) is the HDFS superuser. Permissions are on.
// Each --proxyuser NAME may impersonate any user from any host (the NameNode
// enforces this even with simple auth). --groups gives users that do not exist
// on this machine their groups (hadoop.user.group.static.mapping.overrides).
// Data survives restarts (the NameNode is formatted only when DATA holds no
// name dir yet, or with --format). A client configuration (core-site.xml,
// hdfs-site.xml) for the running cluster is written to CONF, then one line
//   MINIHDFS READY fs.defaultFS=hdfs://127.0.0.1:PORT ...
// is printed and the process blocks until it is killed (SIGTERM shuts the
// cluster down cleanly).

import java.io.File;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;

import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.permission.FsPermission;
import org.apache.hadoop.hdfs.DistributedFileSystem;
import org.apache.hadoop.hdfs.MiniDFSCluster;
import org.apache.hadoop.security.Groups;
import org.apache.hadoop.security.UserGroupInformation;

public class MiniHdfs {
  private static final String HOST = "127.0.0.1";

  public static void main(String[] args) throws Exception {
    int port = 9820;
    int httpPort = 9870;
    File dir = null;
    File confDir = null;
    boolean forceFormat = false;
    List<String> proxyUsers = new ArrayList<>();
    String groups = "";
    for (int i = 0; i < args.length; i++) {
      String a = args[i];
      switch (a) {
        case "--port": port = Integer.parseInt(args[++i]); break;
        case "--http-port": httpPort = Integer.parseInt(args[++i]); break;
        case "--dir": dir = new File(args[++i]).getAbsoluteFile(); break;
        case "--conf-dir": confDir = new File(args[++i]).getAbsoluteFile(); break;
        case "--proxyuser": proxyUsers.add(args[++i]); break;
        case "--groups": groups = args[++i]; break;
        case "--format": forceFormat = true; break;
        default:
          System.err.println("unknown argument: " + a);
          System.exit(2);
      }
    }
    if (dir == null || confDir == null) {
      System.err.println("usage: MiniHdfs --dir DATA --conf-dir CONF [--port N] [--http-port N]"
          + " [--proxyuser USER]... [--groups 'u=g1,g2;u2=g'] [--format]");
      System.exit(2);
    }

    // Settings shared by the NameNode and the clients (written to core-site.xml).
    Map<String, String> core = new LinkedHashMap<>();
    core.put("fs.defaultFS", "hdfs://" + HOST + ":" + port);
    core.put("hadoop.security.authentication", "simple");
    core.put("hadoop.user.group.static.mapping.overrides", groups.isEmpty() ? "dr.who=;" : groups);
    for (String u : proxyUsers) {
      core.put("hadoop.proxyuser." + u + ".hosts", "*");
      core.put("hadoop.proxyuser." + u + ".groups", "*");
      core.put("hadoop.proxyuser." + u + ".users", "*");
    }
    // Client-side HDFS settings (hdfs-site.xml): one DataNode only.
    Map<String, String> hdfs = new LinkedHashMap<>();
    hdfs.put("dfs.replication", "1");
    hdfs.put("dfs.client.block.write.replace-datanode-on-failure.enable", "false");
    hdfs.put("dfs.permissions.enabled", "true");
    hdfs.put("dfs.namenode.rpc-address", HOST + ":" + port);
    hdfs.put("dfs.namenode.http-address", HOST + ":" + httpPort);

    Configuration conf = new Configuration();
    core.forEach(conf::set);
    hdfs.forEach(conf::set);
    conf.set("hadoop.tmp.dir", new File(dir, "tmp").getPath());
    conf.set("dfs.permissions.superusergroup", "supergroup");
    conf.setInt("dfs.namenode.safemode.extension", 0);
    conf.setInt("dfs.namenode.handler.count", 5);
    conf.setInt("dfs.datanode.handler.count", 3);
    conf.setBoolean("dfs.namenode.acls.enabled", true);
    conf.setBoolean("dfs.webhdfs.enabled", true);
    conf.set("dfs.datanode.address", HOST + ":0");
    conf.set("dfs.datanode.http.address", HOST + ":0");
    conf.set("dfs.datanode.ipc.address", HOST + ":0");

    UserGroupInformation.setConfiguration(conf);
    Groups.getUserToGroupsMappingService(conf);
    String superUser = UserGroupInformation.getCurrentUser().getShortUserName();

    // MiniDFSCluster keeps the NameNode dirs as DIR/name-<nn>-<n>; reuse them
    // (and the DataNode's DIR/data/dataN) when a formatted one is there.
    File[] nameDirs = dir.listFiles(f -> f.getName().startsWith("name")
        && new File(f, "current/VERSION").isFile());
    boolean format = forceFormat || nameDirs == null || nameDirs.length == 0;
    Files.createDirectories(dir.toPath());
    System.out.println("MINIHDFS starting: superuser=" + superUser + " format=" + format
        + " dir=" + dir + " proxyusers=" + proxyUsers + " groups=" + groups);

    MiniDFSCluster cluster = new MiniDFSCluster.Builder(conf, dir)
        .numDataNodes(1)
        .nameNodePort(port)
        .nameNodeHttpPort(httpPort)
        .format(format)
        .manageNameDfsDirs(true)
        .manageDataDfsDirs(true)
        .checkDataNodeAddrConfig(true)
        .waitSafeMode(true)
        .build();
    // Shut down on SIGTERM/SIGINT from the main thread, not from a JVM
    // shutdown hook: Hadoop's own ShutdownHookManager refuses hook changes
    // once the JVM is exiting, which makes a hook-driven shutdown noisy.
    CountDownLatch stop = new CountDownLatch(1);
    for (String sig : new String[] {"TERM", "INT"}) {
      sun.misc.Signal.handle(new sun.misc.Signal(sig), s -> stop.countDown());
    }
    cluster.waitActive();
    cluster.waitClusterUp();

    DistributedFileSystem fs = cluster.getFileSystem();
    if (fs.isInSafeMode()) {
      throw new IllegalStateException("NameNode still in safe mode after start");
    }
    // Standard top-level dirs: /user (home dirs are created by the callers)
    // and a world-writable, sticky /tmp.
    ensureDir(fs, "/user", (short) 0755);
    ensureDir(fs, "/tmp", (short) 01777);

    writeSite(new File(confDir, "core-site.xml"), core);
    writeSite(new File(confDir, "hdfs-site.xml"), hdfs);

    System.out.println("MINIHDFS READY fs.defaultFS=hdfs://" + HOST + ":" + port
        + " http=http://" + HOST + ":" + httpPort
        + " datanode=" + cluster.getDataNodes().get(0).getXferAddress()
        + " superuser=" + superUser + " conf=" + confDir);
    System.out.flush();
    stop.await();
    System.out.println("MINIHDFS stopping");
    try {
      // Not cluster.shutdown(): it registers DIR for deletion on JVM exit,
      // which would throw the data away. Stop the nodes, keep the dirs.
      fs.close();
      cluster.shutdownDataNodes();
      cluster.shutdownNameNodes();
    } finally {
      System.out.println("MINIHDFS stopped");
      System.out.flush();
      System.exit(0);
    }
  }

  private static void ensureDir(FileSystem fs, String p, short mode) throws IOException {
    Path path = new Path(p);
    if (!fs.exists(path)) {
      fs.mkdirs(path);
    }
    fs.setPermission(path, new FsPermission(mode));
  }

  private static void writeSite(File f, Map<String, String> props) throws IOException {
    Files.createDirectories(f.getParentFile().toPath());
    File tmp = new File(f.getPath() + ".tmp");
    try (PrintWriter w = new PrintWriter(tmp, StandardCharsets.UTF_8)) {
      w.println("<?xml version=\"1.0\" encoding=\"UTF-8\"?>");
      w.println("<!-- Written by deploy/dev/hdfs/MiniHdfs.java for the running dev HDFS. -->");
      w.println("<configuration>");
      for (Map.Entry<String, String> e : props.entrySet()) {
        w.println("  <property><name>" + esc(e.getKey()) + "</name><value>" + esc(e.getValue())
            + "</value></property>");
      }
      w.println("</configuration>");
    }
    Files.move(tmp.toPath(), f.toPath(), StandardCopyOption.REPLACE_EXISTING,
        StandardCopyOption.ATOMIC_MOVE);
  }

  private static String esc(String s) {
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;");
  }
}
