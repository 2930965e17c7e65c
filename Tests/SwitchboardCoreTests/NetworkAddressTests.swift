import SwitchboardCore
import Testing

@Suite struct NetworkAddressTests {
    @Test(arguments: ["127.0.0.1", "127.9.9.9", "10.1.2.3", "172.16.0.1", "172.31.255.255", "192.168.1.1", "169.254.169.254",
                      "0.0.0.0", "100.64.0.1", "224.0.0.1", "255.255.255.255", "::1", "::", "fe80::1", "fd00::1", "fc00::1",
                      "::ffff:127.0.0.1", "::ffff:169.254.169.254", "ff02::1", "64:ff9b::10.0.0.1", "[::1]"])
    func operatorNetworksAreNotPublic(_ address: String) {
        #expect(!NetworkAddress.isPublic(address))
    }

    @Test(arguments: ["8.8.8.8", "1.1.1.1", "172.32.0.1", "100.128.0.1", "2606:4700:4700::1111", "::ffff:8.8.8.8", "[2a00:1450::1]"])
    func internetAddressesArePublic(_ address: String) {
        #expect(NetworkAddress.isPublic(address))
    }

    @Test func namesAreNotAddresses() {
        #expect(NetworkAddress.bytes("example.com") == nil)
        #expect(!NetworkAddress.isPublic("example.com"))
    }
}
