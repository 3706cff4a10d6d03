# placeholder python action
